import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";

describe("admin API: CRUD at the seed's paths and shapes", () => {
  it("creates a config (201) with the seed's defaults for omitted fields", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      body: { phone_number: phone, display_name: "Bare", system_prompt: "Be brief.", greeting: "Hi." },
    });
    expect(res.status).toBe(201);
    expect(res.json.success).toBe(true);
    expect(res.json.message).toContain(phone);
    expect(res.json.config).toMatchObject({
      phone_number: phone,
      stt_model: "whisper-1",
      tts_model: "tts-1",
      tts_voice: "alloy",
      inference_model: "gpt-4o-mini",
      temperature: 0.7,
      max_tokens: 500,
      enable_interrupts: true,
      interrupt_timeout: 0.5,
      enable_recording: true,
      max_call_duration: 3600,
      is_active: true,
      version: 1,
    });
    expect(res.json.config.created_at).toBe(res.json.config.updated_at);
  });

  it("gets, lists, updates partially and keeps created_at while version and updated_at move", async () => {
    const phone = uniquePhone();
    const created = await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const got = await admin("GET", `/admin/phone-config/${phone}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({
      success: true,
      active: true,
      config: { tts_voice: "nova", version: 1 },
    });

    const listed = await admin("GET", "/admin/phone-configs");
    expect(listed.json.success).toBe(true);
    expect(listed.json.total).toBe(listed.json.configs.length);
    expect(listed.json.configs.map((c: { phone_number: string }) => c.phone_number)).toContain(phone);

    await new Promise((r) => setTimeout(r, 5));
    const updated = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { tts_voice: "shimmer", greeting: "Hello! Thanks for calling. How can I assist you?" },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.config).toMatchObject({
      tts_voice: "shimmer",
      greeting: "Hello! Thanks for calling. How can I assist you?",
      display_name: "Sales Line",
      version: 2,
      created_at: created.json.config.created_at,
    });
    expect(updated.json.config.updated_at > created.json.config.updated_at).toBe(true);

    // POST over an existing number is an update: created_at still never changes.
    const again = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { tts_voice: "echo" }),
    });
    expect(again.status).toBe(200);
    expect(again.json.config).toMatchObject({
      version: 3,
      tts_voice: "echo",
      created_at: created.json.config.created_at,
    });
  });

  it("soft-deletes by default: hidden from the list, still readable and flagged, then reactivated by PUT", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const deleted = await admin("DELETE", `/admin/phone-config/${phone}`);
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({ success: true, message: `Configuration deactivated for ${phone}` });

    const got = await admin("GET", `/admin/phone-config/${phone}`);
    expect(got.json).toMatchObject({ active: false, config: { is_active: false, version: 2 } });
    const active = await admin("GET", "/admin/phone-configs");
    expect(active.json.configs.map((c: { phone_number: string }) => c.phone_number)).not.toContain(phone);
    const all = await admin("GET", "/admin/phone-configs?include_inactive=true");
    expect(all.json.configs.map((c: { phone_number: string }) => c.phone_number)).toContain(phone);

    const reactivated = await admin("PUT", `/admin/phone-config/${phone}`, { body: { is_active: true } });
    expect(reactivated.status).toBe(200);
    expect(reactivated.json.config).toMatchObject({ is_active: true, version: 3 });
  });

  it("hard-deletes with ?hard_delete=true: gone, and a second delete is 404", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const deleted = await admin("DELETE", `/admin/phone-config/${phone}?hard_delete=true`);
    expect(deleted.json.message).toBe(`Configuration permanently deleted for ${phone}`);
    expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
    const again = await admin("DELETE", `/admin/phone-config/${phone}?hard_delete=true`);
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe("NOT_FOUND");
  });

  it("answers 404 with the seed's hint for an unknown number, on GET, PUT and DELETE", async () => {
    const phone = uniquePhone();
    for (const [method, body] of [["GET"], ["PUT", { greeting: "x" }], ["DELETE"]] as const) {
      const res = await admin(method, `/admin/phone-config/${phone}`, body ? { body } : {});
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ success: false, error: { code: "NOT_FOUND" } });
      expect(res.json.error.message).toContain("POST /admin/phone-config");
    }
  });
});

describe("admin API: phone numbers are E.164 everywhere", () => {
  it("treats formatted, bare, URL-encoded and national spellings as the same number", async () => {
    const national = `212${uniquePhone().slice(5)}`;
    const e164 = `+1${national}`;
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(`+1 (${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}`),
    });
    expect(created.json.config.phone_number).toBe(e164);
    for (const spelling of [e164, `1${national}`, encodeURIComponent(e164), national]) {
      const res = await admin("GET", `/admin/phone-config/${spelling}`);
      expect(res.status, spelling).toBe(200);
      expect(res.json.config.phone_number).toBe(e164);
    }
  });

  it("rejects something that is not a possible number with a 400 that says so", async () => {
    const res = await admin("POST", "/admin/phone-config", { body: sampleBody("+1 12") });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_PHONE_NUMBER");
    expect(res.json.error.message).toContain("not a possible phone number");
    const letters = await admin("GET", "/admin/phone-config/call-me-maybe");
    expect(letters.status).toBe(400);
    expect(letters.json.error.details[0].field).toBe("phone_number");
  });
});

describe("admin API: bad input gets a clear 4xx and writes nothing", () => {
  async function expectNothingWritten(phone: string) {
    expect((await admin("GET", `/admin/phone-config/${phone}`)).status).toBe(404);
  }

  it.each([
    ["temperature", { temperature: 2.5 }, "too_big"],
    ["max_tokens", { max_tokens: 0 }, "too_small"],
    ["max_tokens", { max_tokens: 4001 }, "too_big"],
    ["interrupt_timeout", { interrupt_timeout: 0.05 }, "too_small"],
    ["max_call_duration", { max_call_duration: 59 }, "too_small"],
    ["tts_model", { tts_model: "tts-2" }, "invalid_value"],
    ["enable_recording", { enable_recording: "yes" }, "invalid_type"],
  ])("rejects an out-of-range or mistyped %s", async (field, override, rule) => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", { body: sampleBody(phone, override) });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details).toContainEqual(expect.objectContaining({ field, rule }));
    expect(res.json.error.message).toContain(field);
    await expectNothingWritten(phone);
  });

  it("names every missing required field", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", { body: { phone_number: phone } });
    expect(res.status).toBe(400);
    const fields = res.json.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["display_name", "system_prompt", "greeting"]));
    await expectNothingWritten(phone);
  });

  it("rejects unknown fields by name, so a typo is never silently ignored", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { tts_vioce: "nova" }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toContainEqual(
      expect.objectContaining({ field: "tts_vioce", rule: "unknown_field" }),
    );
    await expectNothingWritten(phone);
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const put = await admin("PUT", `/admin/phone-config/${phone}`, { body: { greting: "typo" } });
    expect(put.status).toBe(400);
    expect(put.json.error.details[0]).toMatchObject({ field: "greting", rule: "unknown_field" });
  });

  it("rejects a voice the model cannot speak and lists the ones it can", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { tts_voice: "marin" }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0].field).toBe("tts_voice");
    expect(res.json.error.message).toContain("alloy, ash, coral, echo, fable, nova, onyx, sage, shimmer");
    await expectNothingWritten(phone);
    const ok = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { tts_model: "gpt-4o-mini-tts", tts_voice: "marin" }),
    });
    expect(ok.status).toBe(201);
  });

  it("validates a PUT after merging, so a model change cannot strand the stored voice", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { tts_model: "gpt-4o-mini-tts", tts_voice: "cedar" }),
    });
    const res = await admin("PUT", `/admin/phone-config/${phone}`, { body: { tts_model: "tts-1" } });
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('voice "cedar" is not available for tts-1');
    const stored = await admin("GET", `/admin/phone-config/${phone}`);
    expect(stored.json.config).toMatchObject({ tts_model: "gpt-4o-mini-tts", version: 1 });
  });

  it("refuses to rename a number through PUT", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", { body: sampleBody(phone) });
    const res = await admin("PUT", `/admin/phone-config/${phone}`, { body: { phone_number: uniquePhone() } });
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ field: "phone_number", rule: "immutable" });
  });

  it("answers malformed JSON with 400 INVALID_JSON", async () => {
    const res = await admin("POST", "/admin/phone-config", { raw: '{"phone_number": "+1212' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_JSON");
  });

  it("answers a non-JSON content type with 415", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      raw: new URLSearchParams({ phone_number: phone }).toString(),
      contentType: "application/x-www-form-urlencoded",
    });
    expect(res.status).toBe(415);
    expect(res.json.error.message).toContain("application/json");
    await expectNothingWritten(phone);
  });

  it("answers a body over 64 KiB with 413", async () => {
    const phone = uniquePhone();
    const res = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, { system_prompt: "x".repeat(70 * 1024) }),
    });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    await expectNothingWritten(phone);
  });
});

describe("admin API: bearer authentication", () => {
  it("answers 401 with a challenge when the token is missing, 403 when it is wrong", async () => {
    const missing = await admin("GET", "/admin/phone-configs", { key: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get("WWW-Authenticate")).toContain("Bearer");
    const wrong = await admin("GET", "/admin/phone-configs", { key: "not-the-key" });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe("FORBIDDEN");
    const writeAttempt = await admin("POST", "/admin/phone-config", {
      key: "nope",
      body: sampleBody(uniquePhone()),
    });
    expect(writeAttempt.status).toBe(403);
  });

  async function callWith(env: object, key: string | null) {
    const ctx = createExecutionContext();
    const headers: Record<string, string> = key ? { Authorization: `Bearer ${key}` } : {};
    const res = await createApp().fetch(
      new Request("http://localhost/admin/phone-configs", { headers }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } };
  }

  it("accepts any of several comma-separated keys, so keys can rotate", async () => {
    const env = { ...testEnv, ADMIN_API_KEY: "old-key, new-key" };
    expect((await callWith(env, "old-key")).status).toBe(200);
    expect((await callWith(env, "new-key")).status).toBe(200);
    expect((await callWith(env, "old-key-new-key")).status).toBe(403);
  });

  it("refuses with a clear message when no admin key is configured", async () => {
    const env = { ...testEnv, ADMIN_API_KEY: "" };
    const res = await callWith(env, "anything");
    expect(res.status).toBe(503);
    expect(res.json.error?.code).toBe("ADMIN_DISABLED");
    expect(res.json.error?.message).toContain("ADMIN_API_KEY");
  });
});

describe("docs and health", () => {
  it("serves an OpenAPI 3.1 document generated from the schemas, and an interactive page", async () => {
    const spec = await admin("GET", "/openapi.json", { key: null });
    expect(spec.json.openapi).toBe("3.1.0");
    expect(Object.keys(spec.json.paths)).toEqual(
      expect.arrayContaining([
        "/admin/phone-config",
        "/admin/phone-config/{phone_number}",
        "/admin/phone-configs",
        "/admin/phone-config/{phone_number}/versions",
        "/admin/phone-config/{phone_number}/versions/{version}",
        "/admin/phone-config/{phone_number}/diff",
        "/admin/phone-config/{phone_number}/rollback",
      ]),
    );
    const put = spec.json.paths["/admin/phone-config/{phone_number}"].put;
    expect(put.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["if-match", "x-change-reason"]),
    );
    expect(Object.keys(put.responses)).toContain("412");
    expect(spec.json.components.schemas.DiffResponse.example.changes[0].field).toBe("greeting");
    const create = spec.json.components.schemas.PhoneConfigCreateRequest;
    expect(create.required).toEqual(
      expect.arrayContaining(["phone_number", "display_name", "system_prompt", "greeting"]),
    );
    expect(create.properties.temperature).toMatchObject({ minimum: 0, maximum: 2, default: 0.7 });
    const { exports } = await import("cloudflare:workers");
    const docs = await exports.default.fetch("http://localhost/docs");
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(await docs.text()).toContain("/openapi.json");
  });

  it("reports the store backend and that it answers", async () => {
    const res = await admin("GET", "/health", { key: null });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "ok", store: { backend: "embedded", ok: true } });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await admin("GET", "/nope", { key: null });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
  });
});
