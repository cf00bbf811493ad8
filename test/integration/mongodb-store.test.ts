import { runInDurableObject } from "cloudflare:test";
import { MongoClient } from "mongodb";
import { afterAll, describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import { errorFields } from "../../src/log.ts";
import {
  COLLECTION_NAME,
  TEMPLATES_COLLECTION_NAME,
  VERSIONS_COLLECTION_NAME,
} from "../../src/stores/mongo-collection.ts";
import { MongoConfigStore, MongoStore } from "../../src/stores/mongodb.ts";
import { testEnv } from "../support/env.ts";
import { describeStoreConformance, rejection, sampleSettings } from "./store-conformance.ts";

/**
 * The mongodb store through the official driver, inside workerd, against the wire-protocol
 * fake (test/fakes/mongo-wire.ts) bound as MONGODB_URL; each test gets its own database.
 */

function binding(name: "MONGODB_URL" | "MONGODB_TEST_URL"): string | undefined {
  const value = (testEnv as unknown as Record<string, unknown>)[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function fakeUrl(): string {
  const url = binding("MONGODB_URL");
  if (!url)
    throw new Error("MONGODB_URL is not bound: the mongo wire fake must be started in test/global-setup.ts");
  return url;
}

const randomDatabase = () => `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

/**
 * A store whose Durable Object reads a different MONGODB_URL (an unreachable port, wrong
 * credentials, a live server). The Worker's binding holds one URL, so this builds the real
 * MongoConfigStore class with its own env on a real Durable Object state and calls it directly:
 * everything but the RPC hop, which the main suite covers.
 */
async function storeAt(url: string, database: string, historyLimit?: number): Promise<MongoStore> {
  const stub = testEnv.MONGO_STORE.get(testEnv.MONGO_STORE.newUniqueId());
  const instance = await runInDurableObject(
    stub,
    (_current, state) => new MongoConfigStore(state, { ...testEnv, MONGODB_URL: url } as Env),
  );
  const namespace = {
    idFromName: () => stub.id,
    get: () => instance,
  } as unknown as DurableObjectNamespace<MongoConfigStore>;
  return new MongoStore(namespace, { database, ...(historyLimit !== undefined && { historyLimit }) });
}

const A = "+14155550100" as E164;
const NOW = new Date("2026-03-01T10:00:00.000Z");
const PASSWORD = "s3cr3t-Pa55w0rd";

// As in production, where `npm run setup:db` creates the unique indexes the history relies on.
describeStoreConformance("mongodb", async (options) => {
  const store = new MongoStore(testEnv.MONGO_STORE, { database: randomDatabase(), ...options });
  await store.setup();
  return store;
});

describe("mongodb store", () => {
  it("creates the four indexes once, then reports them as already present", async () => {
    const database = randomDatabase();
    const store = new MongoStore(testEnv.MONGO_STORE, { database });
    const versions = `${database}.${VERSIONS_COLLECTION_NAME}`;
    expect(await store.setup()).toEqual([
      `mongodb store: created index phone_number_1 (unique) on ${database}.${COLLECTION_NAME}`,
      `mongodb store: created index is_active_1 on ${database}.${COLLECTION_NAME}`,
      `mongodb store: created index phone_number_1_version_1 (unique) on ${versions}`,
      `mongodb store: created index name_1 (unique) on ${database}.${TEMPLATES_COLLECTION_NAME}`,
    ]);
    expect(await store.setup()).toEqual([
      `mongodb store: index phone_number_1 (unique) on ${database}.${COLLECTION_NAME} already present`,
      `mongodb store: index is_active_1 on ${database}.${COLLECTION_NAME} already present`,
      `mongodb store: index phone_number_1_version_1 (unique) on ${versions} already present`,
      `mongodb store: index name_1 (unique) on ${database}.${TEMPLATES_COLLECTION_NAME} already present`,
    ]);
  });

  it("refuses a second revision of one version with the server's 11000 duplicate key", async () => {
    const database = randomDatabase();
    const store = new MongoStore(testEnv.MONGO_STORE, { database });
    await store.setup();
    await store.put(A, sampleSettings(), { now: NOW });
    const client = new MongoClient(fakeUrl(), { serverSelectionTimeoutMS: 2000 });
    try {
      const versions = client.db(database).collection(VERSIONS_COLLECTION_NAME);
      const err = await versions.insertOne({ phone_number: A, version: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 11000 });
      expect(String((err as Error).message)).toContain("E11000 duplicate key");
      // A writer that reserved version 2 and never wrote its document: an orphan.
      await versions.insertOne({
        phone_number: A,
        version: 2,
        config: { phone_number: A, ...sampleSettings({ greeting: "Never written." }), version: 2 },
        write_id: "orphan",
        write_started_at: new Date(),
      });
    } finally {
      await client.close();
    }
    // Readers never see it; a writer that needs version 2 meanwhile is a conflict.
    expect(await store.revision(A, 2)).toBeNull();
    expect((await store.revisions(A, { limit: 10 })).total).toBe(1);
    const err = await rejection(
      store.put(A, sampleSettings({ greeting: "Changed." }), { now: NOW, expectedVersion: 1 }),
    );
    expect(err.kind).toBe("conflict");
    expect(await store.get(A)).toMatchObject({ version: 1, greeting: sampleSettings().greeting });
  });

  it("lets exactly one of two racing creates of a number win; the other is a conflict", async () => {
    const store = new MongoStore(testEnv.MONGO_STORE, { database: randomDatabase() });
    await store.setup();
    const results = await Promise.allSettled([
      store.put(A, sampleSettings({ display_name: "First" }), { now: NOW, expectedVersion: 0 }),
      store.put(A, sampleSettings({ display_name: "Second" }), { now: NOW, expectedVersion: 0 }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ kind: "conflict" });
    expect((await store.list({ includeInactive: true })).map((c) => c.version)).toEqual([1]);
  });

  it("reports a duplicate key from the server as a conflict naming the number", async () => {
    // A collection filled before the unique index existed: creating the index is refused.
    const database = randomDatabase();
    const client = new MongoClient(fakeUrl(), { serverSelectionTimeoutMS: 2000 });
    try {
      const collection = client.db(database).collection(COLLECTION_NAME);
      for (const copy of [1, 2]) {
        await collection.findOneAndUpdate(
          { phone_number: A, copy },
          { $set: { is_active: true } },
          { upsert: true },
        );
      }
    } finally {
      await client.close();
    }
    const err = await rejection(new MongoStore(testEnv.MONGO_STORE, { database }).setup());
    expect(err.kind).toBe("conflict");
    expect(err.message).toContain("E11000 duplicate key");
    expect(err.message).toContain(A);
  });

  it("reads its client's state: disconnected until first used, then connected", async () => {
    const store = new MongoStore(testEnv.MONGO_STORE, {
      database: randomDatabase(),
      instanceName: crypto.randomUUID(),
    });
    expect(await store.connectionState()).toBe("disconnected");
    expect(await store.get(A)).toBeNull();
    expect(await store.connectionState()).toBe("connected");
  });

  it("keeps serving from the same Durable Object across many requests", async () => {
    const store = new MongoStore(testEnv.MONGO_STORE, { database: randomDatabase() });
    for (let i = 0; i < 5; i++) {
      await store.put(A, sampleSettings({ max_tokens: 100 + i }), { now: NOW });
    }
    expect(await store.get(A)).toMatchObject({ max_tokens: 104, version: 5 });
  });
});

describe("mongodb store failures", () => {
  it("maps an unreachable server to unavailable, without the password", { timeout: 20_000 }, async () => {
    // Port 1 on loopback: nothing listens there, so every connection is refused.
    const store = await storeAt(`mongodb://voice:${PASSWORD}@127.0.0.1:1/`, randomDatabase());
    const err = await rejection(store.get(A));
    expect(err.kind).toBe("unavailable");
    expect(errorFields(err).error).not.toContain(PASSWORD);
    const state = await store.connectionState();
    expect(state).toMatch(/^error: /);
    expect(state).not.toContain(PASSWORD);
  });

  it("maps refused credentials to auth, without the password", async () => {
    const store = await storeAt(
      fakeUrl().replace("mongodb://", `mongodb://voice:${PASSWORD}@`),
      randomDatabase(),
    );
    const err = await rejection(store.list({ includeInactive: true }));
    expect(err.kind).toBe("auth");
    expect(err.message).toContain("Authentication failed");
    expect(errorFields(err).error).not.toContain(PASSWORD);
    const state = await store.connectionState();
    expect(state).toMatch(/^error: .*Authentication failed/);
    expect(state).not.toContain(PASSWORD);
  });

  it("reports a missing MONGODB_URL as misconfigured", async () => {
    const store = await storeAt("", randomDatabase());
    const err = await rejection(store.ping());
    expect(err.kind).toBe("misconfigured");
    expect(err.message).toContain("MONGODB_URL");
  });
});

const liveUrl = binding("MONGODB_TEST_URL");

describe.skipIf(!liveUrl)(
  "mongodb store against a live server: needs MONGODB_TEST_URL (a live MongoDB)",
  () => {
    const databases: string[] = [];
    describeStoreConformance("mongodb (live)", async (options) => {
      const database = randomDatabase();
      databases.push(database);
      const store = await storeAt(liveUrl as string, database, options?.historyLimit);
      await store.setup();
      return store;
    });
    afterAll(async () => {
      const client = new MongoClient(liveUrl as string, { serverSelectionTimeoutMS: 5000 });
      try {
        for (const database of databases) await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    });
  },
);

describe("/health with the mongodb store", () => {
  it("reports the backend, that it answers and the driver's connection state", async () => {
    const { createExecutionContext, waitOnExecutionContext } = await import("cloudflare:test");
    const { createApp } = await import("../../src/app.ts");
    const env = {
      ...testEnv,
      CONFIG_STORE: "mongodb",
      MONGODB_DB_NAME: `t_${crypto.randomUUID().slice(0, 8)}`,
    };
    const ctx = createExecutionContext();
    const res = await createApp().fetch(new Request("http://localhost/health"), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { store: Record<string, unknown> };
    expect(body.store).toMatchObject({ backend: "mongodb", ok: true, connection: "connected" });
    expect(JSON.stringify(body)).not.toContain(testEnv.MONGODB_URL);
  });
});
