import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import { errorFields } from "../../src/log.ts";
import { DataApiStore } from "../../src/stores/data-api.ts";
import { EmbeddedStore } from "../../src/stores/embedded.ts";
import type { StoreError } from "../../src/stores/store.ts";
import { fakeControl } from "../fakes/client.ts";
import { testEnv } from "../support/env.ts";
import { describeStoreConformance, rejection, sampleSettings } from "./store-conformance.ts";

describeStoreConformance(
  "embedded",
  (options) => new EmbeddedStore(testEnv.EMBEDDED_STORE, { instanceName: crypto.randomUUID(), ...options }),
);

describe("embedded store's Durable Object", () => {
  it("is named on first use, once: a request that never reads the store (a call answered from memory) pays nothing", async () => {
    const named: string[] = [];
    const namespace = testEnv.EMBEDDED_STORE;
    const counting = {
      idFromName: (name: string) => {
        named.push(name);
        return namespace.idFromName(name);
      },
      get: (id: DurableObjectId) => namespace.get(id),
    } as unknown as typeof namespace;
    const instanceName = crypto.randomUUID();
    const store = new EmbeddedStore(counting, { instanceName });
    expect(named).toEqual([]);
    await store.put("+14155550123" as E164, sampleSettings(), { now: new Date() });
    expect(await store.get("+14155550123" as E164)).toMatchObject({ phone_number: "+14155550123" });
    expect(named).toEqual([instanceName]);
  });
});

const API_KEY = "data-api-key-7Hq2ZmV9";

function dataApi(
  overrides: { timeoutMs?: number; collection?: string; url?: string; historyLimit?: number } = {},
) {
  const fake = fakeControl(testEnv.FAKE_DATA_API_URL);
  const store = new DataApiStore({
    url: overrides.url ?? fake.url,
    apiKey: API_KEY,
    dataSource: "mongodb-atlas",
    database: "voiceagent",
    timeoutMs: overrides.timeoutMs ?? 5000,
    ...(overrides.collection ? { collection: overrides.collection } : {}),
    ...(overrides.historyLimit ? { historyLimit: overrides.historyLimit } : {}),
  });
  return { fake, store };
}

describeStoreConformance("data-api", (options) => dataApi(options).store);

const A = "+14155550100" as E164;
const NOW = new Date("2026-03-01T10:00:00.123Z");
const LATER = new Date("2026-03-02T10:00:00.000Z");

/** A StoreError whose whole cause chain (what a log line shows, src/log.ts) holds no api key. */
async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const err = await rejection(promise);
  expect(errorFields(err).error).not.toContain(API_KEY);
  expect(err.cause).toBeDefined();
  return err;
}

describe("data-api store on the wire", () => {
  it("writes the revision under its unique key first, then the document only if absent", async () => {
    const { fake, store } = dataApi();
    const settings = sampleSettings();
    await store.put(A, settings, { now: NOW, change: { actor: "alice", reason: "launch" } });

    const requests = await fake.requests();
    expect(requests.map((r) => r.path)).toEqual([
      "/action/findOne",
      "/action/insertOne",
      "/action/updateOne",
    ]);
    const [, revision, write] = requests;
    expect(write?.headers.apikey).toBe(API_KEY);
    expect(write?.headers["content-type"]).toBe("application/ejson");
    expect(write?.headers.accept).toBe("application/ejson");
    const date = { $date: NOW.toISOString() };
    const doc = { phone_number: A, ...settings, created_at: date, updated_at: date, version: 1 };
    const revisionBody = JSON.parse(revision?.body ?? "");
    expect(revisionBody).toStrictEqual({
      dataSource: "mongodb-atlas",
      database: "voiceagent",
      collection: "phone_config_versions",
      document: {
        phone_number: A,
        version: 1,
        config: doc,
        changed_fields: expect.any(Array),
        written_at: date,
        actor: "alice",
        reason: "launch",
        template: null,
        write_id: expect.any(String),
        write_started_at: { $date: expect.any(String) },
      },
    });
    expect(JSON.parse(write?.body ?? "")).toStrictEqual({
      dataSource: "mongodb-atlas",
      database: "voiceagent",
      collection: "phone_configs",
      filter: { phone_number: A },
      update: { $setOnInsert: doc },
      upsert: true,
    });
  });

  it("replaces the document only where it still has the version the revision follows", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings(), { now: NOW });
    const earlier = (await fake.requests()).length;
    await store.put(A, sampleSettings({ greeting: "Changed." }), { now: LATER, expectedVersion: 1 });

    const requests = (await fake.requests()).slice(earlier);
    expect(requests.map((r) => r.path)).toEqual([
      "/action/findOne",
      "/action/insertOne",
      "/action/replaceOne",
    ]);
    expect(JSON.parse(requests[1]?.body ?? "")).toMatchObject({ document: { phone_number: A, version: 2 } });
    expect(JSON.parse(requests[2]?.body ?? "")).toMatchObject({
      filter: { phone_number: A, version: 1 },
      replacement: { phone_number: A, version: 2 },
    });
  });

  it("uses the configured collection", async () => {
    const { fake, store } = dataApi({ collection: "configs_eu" });
    await store.get(A);
    const [read] = await fake.requests();
    expect(JSON.parse(read?.body ?? "")).toMatchObject({
      collection: "configs_eu",
      filter: { phone_number: A },
    });
  });

  it("stores timestamps as BSON dates, not strings", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings(), { now: NOW });
    const response = await fetch(`${fake.url}/action/findOne`, {
      method: "POST",
      headers: { apiKey: API_KEY, "Content-Type": "application/json", Accept: "application/ejson" },
      body: JSON.stringify({
        dataSource: "mongodb-atlas",
        database: "voiceagent",
        collection: "phone_configs",
        filter: { phone_number: A },
      }),
    });
    const { document } = (await response.json()) as { document: Record<string, unknown> };
    expect(document.created_at).toEqual({ $date: { $numberLong: String(NOW.getTime()) } });
    expect(document.updated_at).toEqual({ $date: { $numberLong: String(NOW.getTime()) } });
  });
});

describe("data-api fake aggregations", () => {
  it("runs the store's list query as one aggregate, and refuses what a server refuses", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings({ display_name: "Bookings" }), { now: NOW });
    await store.query({ search: "book", offset: 0, limit: 10 });
    expect((await fake.requests()).map((r) => r.path).at(-1)).toBe("/action/aggregate");
    const aggregate = (pipeline: unknown[]) =>
      fetch(`${fake.url}/action/aggregate`, {
        method: "POST",
        headers: { "Content-Type": "application/json", apiKey: API_KEY },
        body: JSON.stringify({
          dataSource: "mongodb-atlas",
          database: "voiceagent",
          collection: "phone_configs",
          pipeline,
        }),
      });
    const refused = await aggregate([{ $limit: 0 }]);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error_code: "InvalidParameter",
      error: /limit must be positive/,
    });
    const unknown = await aggregate([{ $lookup: { from: "x" } }]);
    expect(await unknown.json()).toMatchObject({ error: /Unrecognized pipeline stage name: '\$lookup'/ });
  });
});

describe("data-api store failures", () => {
  it("maps a refused key to auth", async () => {
    const { fake, store } = dataApi();
    await fake.behave({
      status: 401,
      body: JSON.stringify({ error: "invalid session: invalid API key", error_code: "InvalidSession" }),
    });
    const err = await storeError(store.get(A));
    expect(err.kind).toBe("auth");
    expect(err.message).toContain("invalid API key");
  });

  it("maps a gateway failure to unavailable with its status and message, never the key", async () => {
    const { fake, store } = dataApi();
    await fake.behave({
      status: 500,
      body: JSON.stringify({
        error: `internal failure handling apiKey ${API_KEY}`,
        error_code: "InternalError",
      }),
    });
    const err = await storeError(store.list({ includeInactive: false }));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain("500");
    expect(err.message).toContain("internal failure handling apiKey");
  });

  it("maps a slow gateway to timeout", async () => {
    const { fake, store } = dataApi({ timeoutMs: 100 });
    await fake.behave({ delayMs: 1000 });
    const err = await storeError(store.get(A));
    expect(err.kind).toBe("timeout");
  });

  it("maps an unreachable gateway to unavailable", async () => {
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    const { store } = dataApi({ url: "http://127.0.0.1:9/app/x/endpoint/data/v1" });
    const err = await storeError(store.ping());
    expect(err.kind).toBe("unavailable");
  });

  it("maps a body that is not JSON to bad_response", async () => {
    const { fake, store } = dataApi();
    await fake.behave({ status: 200, body: "<html>gateway</html>" });
    const err = await storeError(store.get(A));
    expect(err.kind).toBe("bad_response");
  });

  it("maps a response of the wrong shape to bad_response", async () => {
    const { fake, store } = dataApi();
    await fake.behave({ status: 200, body: JSON.stringify({ documents: "none" }) });
    const err = await storeError(store.list({ includeInactive: true }));
    expect(err.kind).toBe("bad_response");
  });

  it("maps a duplicate key from a racing insert to conflict", async () => {
    const { fake, store } = dataApi();
    await fake.behave({
      status: 409,
      pathIncludes: "updateOne",
      body: JSON.stringify({
        error: `E11000 duplicate key error collection: voiceagent.phone_configs index: phone_number_1 dup key: { phone_number: "${A}" }`,
        error_code: "DuplicateKey",
      }),
    });
    const err = await rejection(store.put(A, sampleSettings(), { now: NOW }));
    expect(err.kind).toBe("conflict");
    expect(err.message).toContain("created by a concurrent write");
    // The revision written before the refused insert was taken back.
    expect(await store.revisions(A, { limit: 10 })).toStrictEqual({ total: 0, versions: [] });
  });
});

/** A revision a writer left behind when it never got to its document write (crash, timeout). */
async function plantOrphan(url: string, version: number, writtenAt: Date) {
  const date = { $date: writtenAt.toISOString() };
  const response = await fetch(`${url}/action/insertOne`, {
    method: "POST",
    headers: { "Content-Type": "application/ejson", apiKey: API_KEY },
    body: JSON.stringify({
      dataSource: "mongodb-atlas",
      database: "voiceagent",
      collection: "phone_config_versions",
      document: {
        phone_number: A,
        version,
        config: {
          phone_number: A,
          ...sampleSettings({ greeting: "Never written." }),
          created_at: date,
          updated_at: date,
          version,
        },
        changed_fields: ["greeting"],
        written_at: date,
        actor: "crashed",
        write_id: "orphan",
        write_started_at: date,
      },
    }),
  });
  expect(response.status).toBeLessThan(300);
}

describe("data-api store history: unique versions and orphans", () => {
  it("refuses a second revision of the same version with the server's duplicate key (a conflict)", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings(), { now: NOW });
    // A writer that read version 1 and lost the race for version 2.
    await plantOrphan(fake.url, 2, new Date());
    const err = await rejection(
      store.put(A, sampleSettings({ greeting: "Mine." }), { now: LATER, expectedVersion: 1 }),
    );
    expect(err.kind).toBe("conflict");
    expect((await store.get(A))?.version).toBe(1);
  });

  it("never shows an orphan revision above the document's version", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings(), { now: NOW });
    await plantOrphan(fake.url, 2, new Date());
    expect(await store.revision(A, 2)).toBeNull();
    expect(await store.revisions(A, { limit: 10 })).toMatchObject({ total: 1, versions: [{ version: 1 }] });
  });

  it("clears an old orphan out of a writer's way and writes that version itself", async () => {
    const { fake, store } = dataApi();
    await store.put(A, sampleSettings(), { now: NOW });
    await plantOrphan(fake.url, 2, new Date(Date.now() - 5 * 60_000));
    const { config } = await store.put(A, sampleSettings({ greeting: "Written." }), { now: LATER });
    expect(config.version).toBe(2);
    expect(await store.revision(A, 2)).toMatchObject({ actor: "system", config: { greeting: "Written." } });
  });
});

describe("documents written before a setting existed", () => {
  it("reads a document from the original Python service with defaults for the newer fields", async () => {
    const { fake, store } = dataApi();
    // Exactly what the seed's save_phone_config wrote: no version, conversation_mode or end_of_speech_ms.
    const response = await fetch(`${fake.url}/action/insertOne`, {
      method: "POST",
      headers: { "Content-Type": "application/ejson", apiKey: API_KEY },
      body: JSON.stringify({
        dataSource: "mongodb-atlas",
        database: "voiceagent",
        collection: "phone_configs",
        document: {
          phone_number: "+18668134984",
          display_name: "Legacy Line",
          stt_model: "whisper-1",
          tts_model: "tts-1",
          tts_voice: "nova",
          inference_model: "gpt-4o-mini",
          temperature: 0.7,
          max_tokens: 500,
          system_prompt: "Old prompt.",
          greeting: "Old greeting.",
          enable_interrupts: true,
          interrupt_timeout: 0.5,
          enable_recording: true,
          max_call_duration: 3600,
          is_active: true,
          created_at: { $date: "2025-01-02T03:04:05.000Z" },
          updated_at: { $date: "2025-01-02T03:04:05.000Z" },
        },
      }),
    });
    expect(response.status).toBeLessThan(300);
    const config = await store.get("+18668134984" as E164);
    expect(config).toMatchObject({
      display_name: "Legacy Line",
      conversation_mode: "stream",
      end_of_speech_ms: 700,
      version: 0,
      created_at: "2025-01-02T03:04:05.000Z",
    });
    // A setting the document lacks is filtered on as its default, as it is read.
    const found = await store.query({ mode: "stream", active: true, search: "legacy", offset: 0, limit: 10 });
    expect(found.total).toBe(1);
    expect(found.configs[0]).toStrictEqual(config);
    expect((await store.query({ mode: "turns", offset: 0, limit: 10 })).total).toBe(0);
  });

  it("fills the embedded store's search column once, on a table from before it existed", async () => {
    const instanceName = crypto.randomUUID();
    const stub = testEnv.EMBEDDED_STORE.get(testEnv.EMBEDDED_STORE.idFromName(instanceName));
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE phone_configs DROP COLUMN search_name");
      sql.exec(
        `INSERT INTO phone_configs (phone_number, is_active, settings, created_at, updated_at, version)
         VALUES (?, 1, ?, ?, ?, 3)`,
        "+14155550100",
        JSON.stringify(sampleSettings({ display_name: "Ünïcode Line" })),
        NOW.toISOString(),
        NOW.toISOString(),
      );
    });
    await evictDurableObject(stub);
    const store = new EmbeddedStore(testEnv.EMBEDDED_STORE, { instanceName });
    const found = await store.query({ search: "ünïcode", offset: 0, limit: 10 });
    expect(found.configs.map((c) => [c.phone_number, c.version])).toEqual([["+14155550100", 3]]);
  });
});
