import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PHRASES } from "../../src/call/reply.ts";
import type { CallSession } from "../../src/call/session.ts";
import { fakeControl } from "../fakes/client.ts";
import { loggedCall, newNumber } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { captureLog } from "../support/log-capture.ts";
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
 * A call whose session cannot be created when its snapshot arrives (the Media Stream's `start`,
 * or the first recording webhook), because the call's own Durable Object storage refuses the
 * write: its `call` table has a shape this code does not know (a schema left by another version
 * of the code, or damaged). CREATE TABLE IF NOT EXISTS leaves such a table as it is, so the
 * failure comes from SQLite itself at the first state write, not from a stub. The caller must
 * hear an apology and be hung up on, and the call log must show the call as ended, and why.
 */
// The Worker's own Twilio REST base URL is the fake's root namespace.
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
beforeEach(() => twilio.reset());
afterEach(() => vi.restoreAllMocks());

/** The call's object gets a `call` table of another shape before its session is created. */
async function corruptSessionStorage(sid: string) {
  const stub: DurableObjectStub<CallSession> = testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));
  await runInDurableObject(stub, async (_instance, state) => {
    state.storage.sql.exec("DROP TABLE IF EXISTS call");
    state.storage.sql.exec("CREATE TABLE call (id INTEGER PRIMARY KEY, state BLOB)");
  });
}

function expectStartFailedLine(lines: Record<string, unknown>[], sid: string) {
  const failed = lines.find((l) => l.event === "call_start_failed");
  expect(failed).toMatchObject({ level: "error", call_sid: sid });
  // The cause is SQLite's own refusal, carried up with the error.
  expect(String(failed?.error)).toContain("no column named data");
}

describe("a call whose session cannot be stored", { timeout: 20_000 }, () => {
  it("stream mode: an apology in Twilio's voice, a hang-up, the stream closed with 1011, and the call logged as start_failed", async () => {
    const phone = await newNumber("stream");
    const sid = callSid();
    const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const stream = parseTwiml(answer.body)[0]?.children[0];
    expect(stream?.name).toBe("Stream");
    await corruptSessionStorage(sid);

    const lines = captureLog();
    const { status, client } = await MediaStreamClient.connect(stream?.attributes.url ?? "", sid);
    expect(status).toBe(101);
    if (!client) throw new Error("the stream was refused");
    client.start(streamParameters(stream));
    await vi.waitFor(() => expect(client.closed).not.toBeNull(), { timeout: 5000 });

    // The stream ends as a server error, with no agent audio on it.
    expect(client.closed?.code).toBe(1011);
    expect(client.mediaCount()).toBe(0);
    // The caller hears the apology in Twilio's voice, then Twilio hangs up.
    const updates = (await twilio.requests()).filter(
      (r) => r.method === "POST" && r.path.endsWith(`/Calls/${sid}.json`),
    );
    expect(updates).toHaveLength(1);
    const twiml = parseTwiml(new URLSearchParams(updates[0]?.body).get("Twiml") ?? "");
    expect(twiml.map((v) => v.name)).toEqual(["Say", "Hangup"]);
    expect(twiml[0]?.text).toBe(PHRASES.unavailable);
    expectStartFailedLine(lines(), sid);
    // Ended in the log already, with why: not left "in progress" waiting for Twilio.
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "start_failed", turns: [] });

    // Twilio's status callback after the hang-up keeps that entry.
    const ended = await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 4));
    expect(ended.status).toBe(200);
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "start_failed" });
  });

  it("turns mode: the first recording webhook answers an apology and <Hangup/>, and the call is logged as start_failed", async () => {
    const phone = await newNumber("turns");
    const sid = callSid();
    const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    expect(parseTwiml(answer.body).map((v) => v.name)).toContain("Record");
    await corruptSessionStorage(sid);

    const lines = captureLog();
    const turn = await twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
    expect(turn.status).toBe(200);
    const verbs = parseTwiml(turn.body);
    expect(verbs.map((v) => v.name)).toEqual(["Say", "Hangup"]);
    expect(verbs[0]?.text).toBe(PHRASES.unavailable);
    expectStartFailedLine(lines(), sid);
    // The recording was not fetched: no turn ran on a call that was never stored.
    expect((await twilio.requests()).filter((r) => r.path.includes("/Recordings/"))).toEqual([]);

    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 6));
    expect(await loggedCall(sid)).toMatchObject({ status: "ended", end_reason: "start_failed", turns: [] });
  });
});
