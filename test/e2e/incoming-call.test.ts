import { runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CallState } from "../../src/call/call-state.ts";
import type { CallSession } from "../../src/call/session.ts";
import type { CallSnapshot } from "../../src/call/snapshot.ts";
import { fakeControl } from "../fakes/client.ts";
import { admin, newNumber } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import {
  callEnded,
  callSid,
  incomingCall,
  recordingDone,
  recordingSid,
  twilioPost,
} from "../support/twilio.ts";
import { parseTwiml, streamParameters } from "../support/twiml.ts";

/**
 * The incoming call's answer writes nothing: the call's session is created later from the
 * signed snapshot its TwiML carries (the Media Stream's `start`, or the first recording
 * webhook). These check that nothing is lost on the way: the config the call was answered
 * with, the log entry, Twilio's retries, the call's clock, and tampering.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
beforeEach(() => openai.reset());

const sessionOf = (sid: string): DurableObjectStub<CallSession> =>
  testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));

/** The call's state in its Durable Object (null: no session). */
async function stateOf(sid: string): Promise<CallState | null> {
  return runInDurableObject(
    sessionOf(sid),
    async (instance) => (instance as unknown as { state: CallState | null }).state,
  );
}

/** What a snapshot token says (its first part is base64url JSON: readable, not secret). */
function readSnapshot(token: string): CallSnapshot {
  const payload = (token.split(".")[0] ?? "").replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload)) as CallSnapshot;
}

/** The same token with its JSON changed (its HMAC left as it was). */
function tampered(token: string, edit: (snapshot: CallSnapshot) => void): string {
  const [, expires, signature] = token.split(".");
  const snapshot = readSnapshot(token);
  edit(snapshot);
  const payload = btoa(JSON.stringify(snapshot)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${payload}.${expires}.${signature}`;
}

async function answerStream(phone: string) {
  const sid = callSid();
  const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
  const stream = parseTwiml(answer.body)[0]?.children[0];
  return { sid, url: stream?.attributes.url ?? "", parameters: streamParameters(stream) };
}

describe("the incoming call's answer", () => {
  it("creates no session: a stream call's starts when its Media Stream does, with the config it was answered with", async () => {
    const phone = await newNumber("stream", { greeting: "Answered greeting.", end_of_speech_ms: 300 });
    const call = await answerStream(phone);
    expect(await stateOf(call.sid)).toBeNull();
    expect((await admin("GET", `/admin/calls/${call.sid}`)).status).toBe(404);
    // The number changes between the answer and the stream's start.
    const update = await admin("PUT", `/admin/phone-config/${phone}`, {
      body: { greeting: "Changed greeting.", tts_voice: "onyx" },
    });
    expect(update.status).toBe(200);

    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    if (!client) throw new Error("the stream was refused");
    client.start(call.parameters);
    await vi.waitFor(() => expect(client.marks()).toContain("greeting-1"), { timeout: 5000 });
    const state = await stateOf(call.sid);
    expect(state).toMatchObject({ mode: "stream", config: { version: 1, greeting: "Answered greeting." } });
    const speech = (await openai.requests()).filter((r) => r.path === "/v1/audio/speech");
    expect(speech.map((r) => JSON.parse(r.body).input)).toEqual(["Answered greeting."]);
    const { json } = await admin("GET", `/admin/calls/${call.sid}`);
    expect(json.call).toMatchObject({ status: "in_progress", config_version: 1 });
    client.stop();
    await vi.waitFor(async () => {
      expect((await admin("GET", `/admin/calls/${call.sid}`)).json.call.status).toBe("ended");
    });
  });

  it("refuses a stream whose call snapshot was tampered with, and starts nothing", async () => {
    const phone = await newNumber("stream");
    const call = await answerStream(phone);
    const forged = tampered(call.parameters.call ?? "", (s) => {
      s.config_version = 99;
    });
    for (const bad of [forged, "", `${call.parameters.call}x`]) {
      const { client } = await MediaStreamClient.connect(call.url, call.sid);
      client?.start({ ...call.parameters, call: bad });
      await vi.waitFor(() => expect(client?.closed?.code).toBe(1008));
      expect(client?.mediaCount()).toBe(0);
    }
    // Another call's snapshot, intact, does not start this one either.
    const other = await answerStream(phone);
    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    client?.start({ ...call.parameters, call: other.parameters.call ?? "" });
    await vi.waitFor(() => expect(client?.closed?.code).toBe(1008));
    expect(await stateOf(call.sid)).toBeNull();
  });

  it("creates a turns call's session at its first recording webhook; a tampered one says sorry and hangs up", async () => {
    const phone = await newNumber("turns");
    const sid = callSid();
    const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const action = parseTwiml(answer.body).find((v) => v.name === "Record")?.attributes.action ?? "";
    const token = new URL(action).searchParams.get("call") ?? "";
    expect(readSnapshot(token)).toMatchObject({ call_sid: sid, to: phone, config_version: 1, mode: "turns" });
    expect(await stateOf(sid)).toBeNull();

    const forged = tampered(token, (s) => {
      s.answered_at -= 3_600_000;
    });
    const refused = await twilioPost(
      `/webhooks/twilio/recording?call=${forged}`,
      recordingDone(sid, recordingSid(), phone),
    );
    expect(parseTwiml(refused.body).map((v) => v.name)).toEqual(["Say", "Hangup"]);
    expect(await stateOf(sid)).toBeNull();

    const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(parseTwiml(turn.body).map((v) => v.name)).toEqual(["Play", "Record", "Redirect"]);
    expect(await stateOf(sid)).toMatchObject({ mode: "turns", startedAt: readSnapshot(token).answered_at });
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call).toMatchObject({ status: "in_progress", turns: [{ outcome: "reply" }] });
  });

  it("logs a call that hangs up during the greeting, with its end reason and the number's config", async () => {
    for (const mode of ["turns", "stream"] as const) {
      const phone = await newNumber(mode, { display_name: `Greeting ${mode}` });
      const sid = callSid();
      await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
      await twilioPost("/webhooks/twilio/status", { ...callEnded(sid, phone, 2), CallStatus: "completed" });
      const { json } = await admin("GET", `/admin/calls/${sid}`);
      expect(json.call, mode).toMatchObject({
        status: "ended",
        end_reason: "completed",
        duration_seconds: 2,
        display_name: `Greeting ${mode}`,
        config_version: 1,
        mode,
        turns: [],
      });
      // A late stream or recording does not bring the ended call back.
      expect(await stateOf(sid)).toBeNull();
    }
  });

  it("does not bring back a stream call that ended before its stream started", async () => {
    const phone = await newNumber("stream");
    const call = await answerStream(phone);
    await twilioPost("/webhooks/twilio/status", callEnded(call.sid, phone, 1));
    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    client?.start(call.parameters);
    await vi.waitFor(() => expect(client?.closed).not.toBeNull());
    expect(await stateOf(call.sid)).toBeNull();
    const { json } = await admin("GET", `/admin/calls/${call.sid}`);
    expect(json.call).toMatchObject({ status: "ended", end_reason: "completed", duration_seconds: 1 });
  });

  it("answers Twilio's retry the same way, idempotently: one call, one greeting synthesis", async () => {
    const phone = await newNumber("turns", { greeting: "Retry line." });
    const sid = callSid();
    const first = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const retry = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const audioOf = (body: string) =>
      parseTwiml(body).map((v) => (v.name === "Play" ? v.text.split("?")[0] : v.name));
    expect(audioOf(retry.body)).toEqual(audioOf(first.body));
    expect(await stateOf(sid)).toBeNull();
    // Twilio goes on with the answer it got, whichever it was: one call, as answered.
    await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    const calls = await admin("GET", `/admin/calls?phone_number=${encodeURIComponent(phone)}`);
    expect(calls.json.calls.map((c: { call_sid: string }) => c.call_sid)).toEqual([sid]);
    const speech = (await openai.requests()).filter(
      (r) => r.path === "/v1/audio/speech" && JSON.parse(r.body).input === "Retry line.",
    );
    expect(speech).toHaveLength(1);
  });

  it("counts max_call_duration from the answer, not from the session's creation", async () => {
    const phone = await newNumber("stream", { max_call_duration: 60 });
    const call = await answerStream(phone);
    const answeredAt = readSnapshot(call.parameters.call ?? "").answered_at;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { client } = await MediaStreamClient.connect(call.url, call.sid);
    client?.start(call.parameters);
    await vi.waitFor(async () => expect(await stateOf(call.sid)).not.toBeNull());
    await runInDurableObject(sessionOf(call.sid), async (instance, storage) => {
      const state = (instance as unknown as { state: CallState }).state;
      expect(state.startedAt).toBe(answeredAt);
      expect(state.deadlineAt).toBe(answeredAt + 60_000);
      expect(await storage.storage.getAlarm()).toBe(answeredAt + 60_000);
    });
    client?.stop();
  });

  it("starts a recording number's session at answer, timing the recording from it", async () => {
    const phone = await newNumber("stream", { max_call_duration: 60, enable_recording: true });
    const sid = callSid();
    const before = Date.now();
    await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const after = Date.now();
    await vi.waitFor(async () => expect(await stateOf(sid)).not.toBeNull());
    const state = (await stateOf(sid)) as CallState;
    expect(state.startedAt).toBeGreaterThanOrEqual(before);
    expect(state.startedAt).toBeLessThanOrEqual(after);
    expect(state.deadlineAt).toBe(state.startedAt + 60_000);
    expect((state.recording.nextAt ?? Infinity) - state.startedAt).toBeLessThanOrEqual(2000);
  });
});
