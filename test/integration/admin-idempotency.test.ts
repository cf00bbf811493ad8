import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { fakeControl } from "../fakes/client.ts";
import { pauseDataApi, resumeDataApi } from "../fakes/data-api-client.ts";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";

/**
 * Admin writes whose outcome is unknown (issue 14): with the store frozen mid-write, the 504
 * says the write may have been applied, and a retry with the same Idempotency-Key is never
 * applied twice. The Data API fake is paused while the write is in flight, then resumed.
 */

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
type Json = Record<string, any>;

function adminClient(env: object) {
  return async (
    method: string,
    path: string,
    options: { body?: unknown; key?: string; bearer?: string } = {},
  ): Promise<{ status: number; json: Json; replayed: string | null; text: string }> => {
    const headers = new Headers({ Authorization: `Bearer ${options.bearer ?? testEnv.ADMIN_API_KEY}` });
    if (options.key) headers.set("Idempotency-Key", options.key);
    if (options.body !== undefined) headers.set("Content-Type", "application/json");
    const ctx = createExecutionContext();
    const res = await createApp().fetch(
      new Request(`http://localhost${path}`, {
        method,
        headers,
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const text = await res.text();
    return {
      status: res.status,
      json: JSON.parse(text),
      replayed: res.headers.get("Idempotent-Replayed"),
      text,
    };
  };
}

/** The app on the data-api store, pointed at a namespace of the Data API fake of its own. */
function onDataApi() {
  const fake = fakeControl(testEnv.FAKE_DATA_API_URL);
  const env = {
    ...testEnv,
    CONFIG_STORE: "data-api",
    DATA_API_URL: fake.url,
    DATA_API_KEY: "data-api-key",
    CONFIG_STORE_TIMEOUT_MS: "1000",
  };
  const writes = async () =>
    (await fake.requests()).filter((r) =>
      /^\/action\/(insertOne|updateOne|replaceOne|deleteOne|deleteMany)$/.test(r.path),
    ).length;
  return { fake, call: adminClient(env), writes };
}

const key = () => crypto.randomUUID();

/**
 * The document's write, the step after its revision (src/stores/mongo-revisions.ts): frozen
 * there, the write is applied when the store wakes.
 */
const DOCUMENT_WRITES = ["updateOne", "replaceOne", "deleteOne"];

describe("admin writes with the store frozen mid-write", () => {
  it("a create answers 504 'outcome unknown', is applied when the store wakes, and its retry never writes twice", async () => {
    const { fake, call, writes } = onDataApi();
    const phone = uniquePhone();
    const body = sampleBody(phone);
    const k = key();

    await pauseDataApi(fake.url, DOCUMENT_WRITES);
    const frozen = await call("POST", "/admin/phone-config", { body, key: k });
    expect(frozen.status).toBe(504);
    expect(frozen.json.error.code).toBe("WRITE_OUTCOME_UNKNOWN");
    expect(frozen.json.error.message).toContain("may or may not have been applied");
    expect(frozen.json.error.message).toContain("GET /admin/phone-config/");
    expect(frozen.json.error.message).not.toContain("try again");

    await resumeDataApi(fake.url);
    // The store applied the first attempt after all.
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config.version).toBe(1);
    const writesBefore = await writes();

    const retried = await call("POST", "/admin/phone-config", { body, key: k });
    expect(retried.status).toBe(201);
    expect(retried.json.config).toMatchObject({ phone_number: phone, version: 1 });
    expect(await writes()).toBe(writesBefore);
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config.version).toBe(1);

    const replayed = await call("POST", "/admin/phone-config", { body, key: k });
    expect(replayed.status).toBe(201);
    expect(replayed.replayed).toBe("true");
    expect(replayed.text).toBe(retried.text);
  });

  it("an update answers 504, and its retry after the store applied it returns that version, not a second write", async () => {
    const { fake, call, writes } = onDataApi();
    const phone = uniquePhone();
    expect((await call("POST", "/admin/phone-config", { body: sampleBody(phone) })).status).toBe(201);
    const k = key();
    const change = { greeting: "Applied once." };

    await pauseDataApi(fake.url, DOCUMENT_WRITES);
    expect((await call("PUT", `/admin/phone-config/${phone}`, { body: change, key: k })).status).toBe(504);
    await resumeDataApi(fake.url);
    const writesBefore = await writes();

    const retried = await call("PUT", `/admin/phone-config/${phone}`, { body: change, key: k });
    expect(retried.status).toBe(200);
    expect(retried.json.config).toMatchObject({ greeting: "Applied once.", version: 2 });
    expect(await writes()).toBe(writesBefore);
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config.version).toBe(2);
  });

  it("when the frozen write never reached the store, the retry applies it, once", async () => {
    const { fake, call } = onDataApi();
    const phone = uniquePhone();
    const body = sampleBody(phone, { greeting: "Second attempt." });
    const k = key();

    await pauseDataApi(fake.url);
    expect((await call("POST", "/admin/phone-config", { body, key: k })).status).toBe(504);
    await resumeDataApi(fake.url, { discard: true });
    expect((await call("GET", `/admin/phone-config/${phone}`)).status).toBe(404);

    const retried = await call("POST", "/admin/phone-config", { body, key: k });
    expect(retried.status).toBe(201);
    expect(retried.json.config).toMatchObject({ greeting: "Second attempt.", version: 1 });
  });

  it("frozen after its revision and before its document, the retry finishes that same write, once", async () => {
    const { fake, call } = onDataApi();
    const phone = uniquePhone();
    const body = sampleBody(phone, { greeting: "Finished by the retry." });
    const k = key();

    await pauseDataApi(fake.url, ["insertOne"]);
    expect((await call("POST", "/admin/phone-config", { body, key: k })).status).toBe(504);
    // The revision lands when the store wakes; its document was never sent.
    await resumeDataApi(fake.url);
    expect((await call("GET", `/admin/phone-config/${phone}`)).status).toBe(404);

    const retried = await call("POST", "/admin/phone-config", { body, key: k });
    expect(retried.status).toBe(201);
    expect(retried.json.config).toMatchObject({ greeting: "Finished by the retry.", version: 1 });
    const history = await call("GET", `/admin/phone-config/${phone}/versions`);
    expect(history.json.total).toBe(1);
  });

  it("a soft delete answers 504 and its retry reports the deactivation the store applied", async () => {
    const { fake, call } = onDataApi();
    const phone = uniquePhone();
    await call("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const k = key();
    await pauseDataApi(fake.url, DOCUMENT_WRITES);
    expect((await call("DELETE", `/admin/phone-config/${phone}`, { key: k })).status).toBe(504);
    await resumeDataApi(fake.url);
    const retried = await call("DELETE", `/admin/phone-config/${phone}`, { key: k });
    expect(retried.status).toBe(200);
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config).toMatchObject({
      is_active: false,
      version: 2,
    });
  });
});

describe("Idempotency-Key on admin writes", () => {
  const call = adminClient(testEnv);

  it("replays the first answer to the same request, and refuses another request with the key (422)", async () => {
    const phone = uniquePhone();
    const k = key();
    const first = await call("POST", "/admin/phone-config", { body: sampleBody(phone), key: k });
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    // The same body with its fields in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(sampleBody(phone)).reverse());
    const again = await call("POST", "/admin/phone-config", { body: reordered, key: k });
    expect(again).toMatchObject({ status: 201, replayed: "true", text: first.text });
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config.version).toBe(1);

    const other = await call("POST", "/admin/phone-config", {
      body: sampleBody(phone, { greeting: "Different." }),
      key: k,
    });
    expect(other.status).toBe(422);
    expect(other.json.error).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect((await call("GET", `/admin/phone-config/${phone}`)).json.config.greeting).not.toBe("Different.");
  });

  it("replays a hard delete's 200 where a second delete without a key is 404", async () => {
    const phone = uniquePhone();
    await call("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const k = key();
    const path = `/admin/phone-config/${phone}?hard_delete=true`;
    expect((await call("DELETE", path, { key: k })).status).toBe(200);
    expect(await call("DELETE", path, { key: k })).toMatchObject({ status: 200, replayed: "true" });
    expect((await call("DELETE", path)).status).toBe(404);
  });

  it("keeps keys per actor: another admin key may use the same Idempotency-Key for its own request", async () => {
    const twoKeys = adminClient({ ...testEnv, ADMIN_API_KEY: "first-admin-key,second-admin-key" });
    const k = key();
    const [a, b] = [uniquePhone(), uniquePhone()];
    const first = await twoKeys("POST", "/admin/phone-config", {
      body: sampleBody(a),
      key: k,
      bearer: "first-admin-key",
    });
    const second = await twoKeys("POST", "/admin/phone-config", {
      body: sampleBody(b),
      key: k,
      bearer: "second-admin-key",
    });
    expect([first.status, second.status]).toEqual([201, 201]);
  });

  it("refuses a malformed key with a 400 that names the header", async () => {
    const res = await call("POST", "/admin/phone-config", {
      body: sampleBody(uniquePhone()),
      key: "has space",
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ field: "Idempotency-Key" });
  });

  it("keeps a key's answer for 24 hours, then forgets it", async () => {
    const record = testEnv.IDEMPOTENCY.get(testEnv.IDEMPOTENCY.idFromName(`test\n${key()}`));
    const now = Date.now();
    expect(await record.begin("request-a", now)).toEqual({ kind: "new" });
    await record.finish({ status: 201, contentType: "application/json", body: "{}" });
    const day = 24 * 60 * 60 * 1000;
    expect((await record.begin("request-a", now + day - 1)).kind).toBe("replay");
    expect((await record.begin("request-b", now + day - 1)).kind).toBe("mismatch");
    expect(await record.begin("request-b", now + day + 1)).toEqual({ kind: "new" });
  });

  it("answers 409 to a second request while the first with the same key is still running", async () => {
    const record = testEnv.IDEMPOTENCY.get(testEnv.IDEMPOTENCY.idFromName(`test\n${key()}`));
    const now = Date.now();
    expect((await record.begin("request-a", now)).kind).toBe("new");
    expect((await record.begin("request-a", now + 1000)).kind).toBe("running");
  });
});
