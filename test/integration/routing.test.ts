import { afterEach, describe, expect, it, vi } from "vitest";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callSid } from "../support/twilio.ts";
import { streamParameters, type TwimlVerb } from "../support/twiml.ts";
import { callForm, signedWebhook } from "../support/voice-call.ts";

/** A signed call snapshot's content (its first part is base64url JSON). */
function snapshotOf(token: string): { variant: string | null; rule: string | null; after_hours: boolean } {
  return JSON.parse(atob((token.split(".")[0] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
}

/** Routing through signed webhooks: which number, variants, schedule, caller rules, preview. */

async function createNumber(overrides: Record<string, unknown>): Promise<string> {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { enable_recording: false, ...overrides }),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return phone;
}

/** Each answered call's <Stream>, until its Media Stream starts (see call). */
const streams = new Map<string, TwimlVerb>();
/** Each answered turns call's <Redirect> (where Twilio goes when the caller says nothing). */
const redirects = new Map<string, URL>();

/**
 * The call's log entry. An answered stream call has none until its Media Stream starts (the
 * session is created from the answer's snapshot then): the stream is started as Twilio would,
 * the entry read while the call is in progress, and the stream stopped.
 */
async function call(sid: string) {
  const stream = streams.get(sid);
  streams.delete(sid);
  const redirect = redirects.get(sid);
  redirects.delete(sid);
  // A turns call's session starts at its first recording webhook: here, the caller's silence.
  if (redirect) {
    await signedWebhook(`${redirect.pathname}${redirect.search}`, {
      ...callForm(sid, { from: "+14155550100" }),
      CallStatus: "in-progress",
    });
  }
  let client: MediaStreamClient | null = null;
  if (stream) {
    ({ client } = await MediaStreamClient.connect(stream.attributes.url ?? "", sid));
    client?.start(streamParameters(stream));
    await vi.waitFor(async () => expect((await admin("GET", `/admin/calls/${sid}`)).status).toBe(200));
  }
  const res = await admin("GET", `/admin/calls/${sid}`);
  client?.stop();
  if (client) await vi.waitFor(() => expect(client.closed).not.toBeNull());
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.call;
}

async function voice(sid: string, fields: { from: string; to?: string; direction?: string }, env?: object) {
  const answer = await signedWebhook("/webhooks/twilio/voice", callForm(sid, fields), env);
  const stream = answer.verbs[0]?.name === "Connect" ? answer.verbs[0].children[0] : undefined;
  if (stream) streams.set(sid, stream);
  const redirect = answer.verbs.find((v) => v.name === "Redirect")?.text;
  if (redirect) redirects.set(sid, new URL(redirect));
  return answer;
}

const verbNames = (verbs: { name: string }[]) => verbs.map((v) => v.name);

afterEach(() => {
  vi.useRealTimers();
});

describe("variants through the voice webhook", () => {
  it("lands 400 distinct CallSids on a 50/50 number within binomial bounds; a retried CallSid keeps its variant", async () => {
    // The variants differ in conversation mode, so each answer shows which one the call got.
    const phone = await createNumber({
      variants: [
        { name: "turns", weight: 50, settings: { conversation_mode: "turns" } },
        { name: "stream", weight: 50, settings: { conversation_mode: "stream" } },
      ],
    });
    const sids = Array.from({ length: 400 }, callSid);
    const kinds: string[] = [];
    for (let i = 0; i < sids.length; i += 16) {
      const batch = await Promise.all(
        sids.slice(i, i + 16).map((sid) => voice(sid, { from: "+14155550100", to: phone })),
      );
      for (const res of batch) kinds.push(res.verbs[0]?.name === "Connect" ? "stream" : "turns");
    }
    const streams = kinds.filter((k) => k === "stream").length;
    // n=400, p=0.5: sd 10; ±4 sd fails a fair split about once in 16,000 runs.
    expect(streams).toBeGreaterThanOrEqual(160);
    expect(streams).toBeLessThanOrEqual(240);

    for (const [i, sid] of sids.slice(0, 20).entries()) {
      const retry = await voice(sid, { from: "+14155550100", to: phone });
      expect(retry.verbs[0]?.name === "Connect" ? "stream" : "turns").toBe(kinds[i]);
      expect((await call(sid)).variant).toBe(kinds[i]);
    }
    // 400 calls on a shared 2-core machine: a limit against hangs, not a timing.
  }, 180_000);
});

describe("caller rules and the schedule through the voice webhook", () => {
  const rules = [
    { name: "blocked", match: { numbers: ["+14155550666"] }, action: "reject" },
    {
      name: "withheld",
      match: { anonymous: true },
      action: "answer",
      settings: { greeting: "Who is calling?" },
    },
    { name: "london", match: { prefixes: ["+4420"] }, action: "forward", to: "+442071838751" },
    { name: "uk", match: { countries: ["GB"] }, action: "answer", settings: { greeting: "Hello, UK." } },
  ];

  it("rejects a blocklisted number with <Reject reason=rejected>, recorded as rejected", async () => {
    const phone = await createNumber({ caller_rules: rules });
    const sid = callSid();
    const res = await voice(sid, { from: "+14155550666", to: phone });
    expect(res.verbs).toEqual([
      { name: "Reject", attributes: { reason: "rejected" }, text: "", children: [] },
    ]);
    expect(await call(sid)).toMatchObject({
      to: phone,
      status: "ended",
      end_reason: "rejected",
      rule: "blocked",
      duration_seconds: 0,
    });
  });

  it("matches by country and by prefix, and anonymous callers", async () => {
    const phone = await createNumber({ caller_rules: rules });
    const uk = callSid();
    await voice(uk, { from: "+447400123456", to: phone });
    expect(await call(uk)).toMatchObject({ rule: "uk", status: "in_progress", after_hours: false });

    const london = callSid();
    const forward = await voice(london, { from: "+442071838750", to: phone });
    expect(verbNames(forward.verbs)).toEqual(["Dial"]);
    expect(forward.verbs[0]?.children[0]).toMatchObject({ name: "Number", text: "+442071838751" });
    expect(await call(london)).toMatchObject({ rule: "london", end_reason: "forwarded" });

    for (const from of ["anonymous", "+266696687"]) {
      const sid = callSid();
      await voice(sid, { from, to: phone });
      expect(await call(sid)).toMatchObject({ rule: "withheld", status: "in_progress" });
    }
    const plain = callSid();
    await voice(plain, { from: "+14155550100", to: phone });
    expect((await call(plain)).rule).toBeNull();
  });

  it("forwards after hours with <Dial> keeping the caller's ID, and records the forward's duration", async () => {
    // Closed today and tomorrow (UTC), so the call is after hours whenever the test runs.
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const phone = await createNumber({
      schedule: {
        timezone: "UTC",
        hours: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open: "00:00", close: "24:00" }],
        closed_dates: [today, tomorrow],
        after_hours: { action: "forward", to: "+14155550199" },
      },
    });
    const sid = callSid();
    const res = await voice(sid, { from: "+14155550100", to: phone });
    expect(res.verbs).toHaveLength(1);
    const [dialVerb] = res.verbs;
    expect(dialVerb).toMatchObject({ name: "Dial", attributes: { callerId: "+14155550100" } });
    expect(dialVerb?.children).toEqual([
      { name: "Number", attributes: {}, text: "+14155550199", children: [] },
    ]);
    expect(await call(sid)).toMatchObject({
      after_hours: true,
      end_reason: "forwarded",
      forwarded_to: "+14155550199",
      duration_seconds: null,
    });

    // Twilio's <Dial action> callback, to the URL the answer gave.
    const action = new URL(dialVerb?.attributes.action ?? "");
    const done = await signedWebhook(`${action.pathname}${action.search}`, {
      AccountSid: "AC00000000000000000000000000000000",
      CallSid: sid,
      CallStatus: "in-progress",
      DialCallStatus: "completed",
      DialCallDuration: "42",
      From: "+14155550100",
      To: phone,
    });
    expect(verbNames(done.verbs)).toEqual(["Hangup"]);
    expect(await call(sid)).toMatchObject({ duration_seconds: 42, forward_status: "completed" });
  });
});

describe("which number a call is for", () => {
  it("finds the number in a SIP To, in From on outbound calls, and answers client calls", async () => {
    const phone = await createNumber({ display_name: "Routed Line" });
    const sip = callSid();
    await voice(sip, {
      from: "sip:alice@pbx.example.com",
      to: `sip:${phone}@example.sip.twilio.com;transport=tls`,
    });
    expect(await call(sip)).toMatchObject({
      to: phone,
      number_rule: "sip_user",
      display_name: "Routed Line",
      uses_defaults: false,
    });

    for (const direction of ["outbound-api", "outbound-dial"]) {
      const sid = callSid();
      await voice(sid, { from: phone, to: "+442071838750", direction });
      expect(await call(sid)).toMatchObject({
        to: phone,
        number_rule: "from_outbound",
        display_name: "Routed Line",
      });
    }

    const client = callSid();
    const answer = await voice(client, { from: "client:alice" });
    expect(verbNames(answer.verbs)).toEqual(["Connect"]);
    expect(await call(client)).toMatchObject({
      to: "unknown",
      number_rule: "client_default",
      uses_defaults: true,
    });

    const withDefault = callSid();
    await voice(withDefault, { from: "client:alice" }, { ...testEnv, DEFAULT_CLIENT_NUMBER: phone });
    expect(await call(withDefault)).toMatchObject({
      to: phone,
      number_rule: "client_default",
      display_name: "Routed Line",
    });
  });
});

describe("POST /admin/phone-config/{n}/preview", () => {
  it("equals the real call for 50 random (from, time, CallSid) triples", async () => {
    const phone = await createNumber({
      variants: [
        { name: "a", weight: 30, settings: { greeting: "A." } },
        { name: "b", weight: 30, settings: { greeting: "B." } },
        { name: "c", weight: 40, settings: { greeting: "C." } },
      ],
      schedule: {
        timezone: "America/New_York",
        hours: [{ days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" }],
        after_hours: { settings: { greeting: "Closed." } },
      },
      caller_rules: [
        { name: "blocked", match: { numbers: ["+14155550666"] }, action: "reject" },
        { name: "uk", match: { countries: ["GB"] }, action: "answer", settings: { temperature: 0.1 } },
        { name: "paris", match: { prefixes: ["+331"] }, action: "forward", to: "+33142685300" },
        { name: "withheld", match: { anonymous: true }, action: "answer" },
      ],
    });
    const callers = [
      "+14155550666",
      "+447400123456",
      "+33142685301",
      "anonymous",
      "+14155550100",
      "+16135550123",
    ];
    const start = Date.parse("2026-03-01T00:00:00Z");
    for (let i = 0; i < 50; i++) {
      const from = callers[Math.floor(Math.random() * callers.length)] as string;
      const at = new Date(start + Math.floor(Math.random() * 30 * 86_400_000));
      const sid = callSid();
      const preview = await admin("POST", `/admin/phone-config/${encodeURIComponent(phone)}/preview`, {
        body: { from, at: at.toISOString(), call_sid: sid },
      });
      expect(preview.status, JSON.stringify(preview.json)).toBe(200);

      vi.useFakeTimers({ toFake: ["Date"], now: at });
      const real = await voice(sid, { from, to: phone });
      vi.useRealTimers();

      // What the call was answered with: its signed snapshot (its session is built from it), or
      // the log entry of a rejected or forwarded call.
      const token =
        real.verbs[0]?.name === "Connect" ? streamParameters(real.verbs[0].children[0]).call : undefined;
      const logged = token ? snapshotOf(token) : await call(sid);
      streams.delete(sid);
      const p = preview.json;
      const what = `${from} at ${at.toISOString()}`;
      expect({ variant: logged.variant, rule: logged.rule, after_hours: logged.after_hours }, what).toEqual({
        variant: p.variant,
        rule: p.rule,
        after_hours: p.after_hours,
      });
      const expected = { answer: "Connect", reject: "Reject", forward: "Dial" }[p.action.type as string];
      expect(real.verbs[0]?.name, what).toBe(expected);
      if (p.action.type === "forward") expect(real.verbs[0]?.children[0]?.text).toBe(p.action.to);
    }
  });

  it("answers the effective config, DST-correct in two time zones", async () => {
    const phone = await createNumber({
      schedule: {
        timezone: "Europe/London",
        hours: [{ days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" }],
        after_hours: { settings: { greeting: "Closed." } },
      },
    });
    const preview = (at: string) =>
      admin("POST", `/admin/phone-config/${encodeURIComponent(phone)}/preview`, {
        body: { from: "+14155550100", at },
      });
    // 08:30 UTC: 08:30 GMT on Friday 27 March (closed), 09:30 BST on Monday 30 March (open).
    expect((await preview("2026-03-27T08:30:00Z")).json).toMatchObject({
      after_hours: true,
      effective: { greeting: "Closed." },
    });
    expect((await preview("2026-03-30T08:30:00Z")).json).toMatchObject({
      after_hours: false,
      effective: { greeting: "Welcome to our sales team!" },
    });

    await admin("PUT", `/admin/phone-config/${encodeURIComponent(phone)}`, {
      body: {
        schedule: {
          timezone: "America/New_York",
          hours: [{ days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" }],
          after_hours: { action: "forward", to: "+14155550199" },
        },
      },
    });
    // 13:30 UTC: 08:30 EST on Friday 6 March (closed), 09:30 EDT on Monday 9 March (open).
    expect((await preview("2026-03-06T13:30:00Z")).json).toMatchObject({
      after_hours: true,
      action: { type: "forward", to: "+14155550199" },
    });
    expect((await preview("2026-03-09T13:30:00Z")).json).toMatchObject({
      after_hours: false,
      action: { type: "answer" },
    });
  });

  it("400s a variant whose voice the merged model cannot speak, naming it", async () => {
    const phone = await createNumber({});
    const res = await admin("PUT", `/admin/phone-config/${encodeURIComponent(phone)}`, {
      body: { variants: [{ name: "warm", weight: 100, settings: { tts_voice: "marin" } }] },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toEqual([
      expect.objectContaining({
        field: "variants.0.settings.tts_voice",
        message: expect.stringContaining('variant "warm"'),
      }),
    ]);
    const get = await admin("GET", `/admin/phone-config/${encodeURIComponent(phone)}`);
    expect(get.json.config.variants).toBeUndefined();
  });

  it("400s a schedule without after_hours or with a bad one, saying which form and what in it", async () => {
    const hours = { timezone: "UTC", hours: [{ days: ["mon"], open: "09:00", close: "17:00" }] };
    const put = (schedule: object) =>
      admin("POST", "/admin/phone-config", { body: sampleBody(uniquePhone(), { schedule }) });
    const missing = await put(hours);
    expect(missing.status).toBe(400);
    expect(missing.json.error.details).toEqual([
      {
        field: "schedule.after_hours",
        rule: "invalid_union",
        message: expect.stringMatching(
          /^schedule\.after_hours: is required: \{ "settings".*"action": "forward"/,
        ),
      },
    ]);
    const badForward = await put({ ...hours, after_hours: { action: "forward", to: "12345" } });
    expect(badForward.status).toBe(400);
    expect(badForward.json.error.details).toContainEqual(
      expect.objectContaining({
        field: "schedule.after_hours.to",
        message: expect.stringContaining("E.164"),
      }),
    );
    for (const detail of badForward.json.error.details) expect(detail.field).toBe("schedule.after_hours.to");
    const badSettings = await put({ ...hours, after_hours: { settings: { temperature: 9 } } });
    expect(badSettings.json.error.details).toContainEqual(
      expect.objectContaining({ field: "schedule.after_hours.settings.temperature", rule: "too_big" }),
    );
  });
});
