import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { AudioStore } from "../../src/call/audio-store.ts";
import { signingSecret } from "../../src/call/tokens.ts";
import { settingsOf } from "../../src/env.ts";
import { computeSignature } from "../../src/twilio/signature.ts";
import { sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { callEnded, callSid, incomingCall, recordingDone, recordingSid } from "../support/twilio.ts";

/**
 * Who may call what, as one table over every route the app has (read from the app itself, so a
 * new route is covered the day it is added): admin routes need the bearer key, Twilio's need
 * Twilio's signature, synthesised audio needs its signed URL. Each is tried with the credential
 * missing, wrong, and tampered with (a valid credential for something else).
 */

const routes = createApp().routes.filter((r) => r.method !== "ALL");
const adminRoutes = [
  ...new Set(routes.filter((r) => r.path.startsWith("/admin/")).map((r) => `${r.method} ${r.path}`)),
];
const twilioRoutes = [
  ...new Set(
    routes.filter((r) => r.path.startsWith("/webhooks/twilio/")).map((r) => `${r.method} ${r.path}`),
  ),
];

/** A concrete path for a route pattern: each `:param{regex}` gets a valid-looking value. */
function concrete(pattern: string, phone: string, sid: string): string {
  return pattern.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, (_, name: string) => {
    if (/phone/i.test(name)) return encodeURIComponent(phone);
    if (/call_?sid/i.test(name)) return sid;
    if (/version/i.test(name)) return "1";
    return "x";
  });
}

async function adminRequest(route: string, authorization: string | null, env?: object) {
  const [method = "GET", pattern = "/"] = route.split(" ");
  const phone = uniquePhone();
  const headers = new Headers({ "Content-Type": "application/json" });
  if (authorization !== null) headers.set("Authorization", authorization);
  const body = method === "GET" || method === "DELETE" ? undefined : JSON.stringify(sampleBody(phone));
  const request = new Request(`http://localhost${concrete(pattern, phone, callSid())}`, {
    method,
    headers,
    body,
  });
  const res = env
    ? await createApp().fetch(request, env, { waitUntil() {}, passThroughOnException() {}, props: {} })
    : await exports.default.fetch(request);
  return { status: res.status, json: (await res.json()) as { error: { code: string } } };
}

describe("security: every admin route needs the bearer key", () => {
  it("covers the admin API (the table is read from the app's routes)", () => {
    expect(adminRoutes).toEqual(
      expect.arrayContaining([
        "POST /admin/phone-config",
        "GET /admin/phone-config/:phone_number",
        "GET /admin/phone-configs",
        "PUT /admin/phone-config/:phone_number",
        "DELETE /admin/phone-config/:phone_number",
        "GET /admin/calls",
        "GET /admin/calls/:call_sid",
      ]),
    );
  });

  const key = testEnv.ADMIN_API_KEY;
  describe.each(adminRoutes)("%s", (route) => {
    it.each([
      ["missing", null, 401, "UNAUTHORIZED"],
      ["not a bearer token", `Basic ${btoa(`admin:${key}`)}`, 401, "UNAUTHORIZED"],
      ["wrong", "Bearer not-the-admin-key", 403, "FORBIDDEN"],
      [
        "tampered (one character changed)",
        `Bearer ${key.slice(0, -1)}${key.endsWith("x") ? "y" : "x"}`,
        403,
        "FORBIDDEN",
      ],
      ["tampered (extended)", `Bearer ${key}0`, 403, "FORBIDDEN"],
    ])("refuses a %s credential", async (_, authorization, status, code) => {
      const res = await adminRequest(route, authorization);
      expect(res.status).toBe(status);
      expect(res.json.error.code).toBe(code);
    });

    it("refuses everyone when no admin key is configured (503)", async () => {
      const res = await adminRequest(route, `Bearer ${key}`, { ...testEnv, ADMIN_API_KEY: "" });
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("ADMIN_DISABLED");
    });
  });
});

/** A Twilio request to each webhook, as Twilio would send it. */
function twilioRequest(route: string): { url: string; params: Record<string, string> | null } {
  const [, pattern = "/"] = route.split(" ");
  const sid = callSid();
  const url = `${testEnv.PUBLIC_BASE_URL}${concrete(pattern, "+18668134984", sid)}`;
  if (pattern.includes("/media/")) return { url, params: null };
  if (pattern.endsWith("/recording"))
    return { url, params: recordingDone(sid, recordingSid(), "+18668134984") };
  if (pattern.endsWith("/status")) return { url, params: callEnded(sid, "+18668134984") };
  return { url, params: incomingCall(sid, "+18668134984") };
}

async function sendTwilio(url: string, params: Record<string, string> | null, signature: string | null) {
  const headers = new Headers();
  if (signature !== null) headers.set("X-Twilio-Signature", signature);
  if (params === null) {
    // A Media Stream: a WebSocket upgrade signed over its wss URL.
    headers.set("Upgrade", "websocket");
    return exports.default.fetch(url, { headers });
  }
  headers.set("Content-Type", "application/x-www-form-urlencoded");
  return exports.default.fetch(url, {
    method: "POST",
    headers,
    body: new URLSearchParams(params).toString(),
  });
}

describe("security: every Twilio route needs Twilio's signature", () => {
  it("covers the webhooks and the Media Stream (the table is read from the app's routes)", () => {
    expect(twilioRoutes.map((r) => r.replace(/\{.*\}$/, ""))).toEqual(
      expect.arrayContaining([
        "POST /webhooks/twilio/voice",
        "POST /webhooks/twilio/recording",
        "POST /webhooks/twilio/status",
        "GET /webhooks/twilio/media/:callSid",
      ]),
    );
  });

  describe.each(twilioRoutes)("%s", (route) => {
    const signedUrl = (url: string, params: Record<string, string> | null) =>
      params ? url : url.replace(/^http/, "ws");

    it("refuses a missing signature", async () => {
      const { url, params } = twilioRequest(route);
      expect((await sendTwilio(url, params, null)).status).toBe(403);
    });

    it("refuses a signature made with another auth token", async () => {
      const { url, params } = twilioRequest(route);
      const wrong = await computeSignature(
        "another-accounts-auth-token",
        signedUrl(url, params),
        params ?? undefined,
      );
      expect((await sendTwilio(url, params, wrong)).status).toBe(403);
    });

    it("refuses a valid signature over a tampered request", async () => {
      const { url, params } = twilioRequest(route);
      const signature = await computeSignature(
        testEnv.TWILIO_AUTH_TOKEN,
        signedUrl(url, params),
        params ?? undefined,
      );
      // Another call's SID in the form, or (for the stream) in the path.
      const tampered = params
        ? await sendTwilio(url, { ...params, CallSid: callSid() }, signature)
        : await sendTwilio(url.replace(/CA[0-9a-f]+$/, callSid()), null, signature);
      expect(tampered.status).toBe(403);
    });
  });
});

describe("security: synthesised audio needs its signed URL", () => {
  const audio = new AudioStore(
    testEnv.AUDIO_CACHE,
    signingSecret(settingsOf(testEnv)),
    testEnv.PUBLIC_BASE_URL,
  );

  it.each([
    ["missing", (u: URL) => u.searchParams.delete("sig")],
    ["wrong", (u: URL) => u.searchParams.set("sig", "AAAA")],
    [
      "tampered (expiry pushed back)",
      (u: URL) => u.searchParams.set("exp", String(Number(u.searchParams.get("exp")) + 3600_000)),
    ],
  ])("refuses a %s signature", async (_, tamper) => {
    const id = `sec-${crypto.randomUUID()}`;
    await audio.put(id, new Uint8Array([1, 2, 3]), "reply");
    const url = new URL(await audio.signedUrl(id));
    expect((await exports.default.fetch(url.href)).status).toBe(200);
    tamper(url);
    expect((await exports.default.fetch(url.href)).status).toBe(403);
  });
});
