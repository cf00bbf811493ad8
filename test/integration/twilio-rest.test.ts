import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { TwilioError, TwilioRest } from "../../src/twilio/rest.ts";
import { testEnv } from "../support/env.ts";
import { twilioFake } from "../support/twilio-fake.ts";

const ACCOUNT = testEnv.TWILIO_ACCOUNT_SID;
const CALL = "CA11111111111111111111111111111111";
const recordingUrl = (sid: string) =>
  `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}`;
const uniqueSid = (prefix: string) => `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;

function setup(options: { authToken?: string; timeoutMs?: number } = {}) {
  const fake = twilioFake();
  const rest = new TwilioRest({
    baseUrl: fake.url,
    accountSid: ACCOUNT,
    authToken: options.authToken ?? testEnv.TWILIO_AUTH_TOKEN,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  return { fake, rest };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: unknown) => err,
  );
}

describe("TwilioRest: calls", () => {
  it("redirects a live call to new TwiML, authenticating with the account SID and auth token", async () => {
    const { fake, rest } = setup();
    const twiml =
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say>One moment &amp; more</Say></Response>';
    expect(await rest.updateCall(CALL, { twiml })).toEqual({
      ok: true,
      call: { sid: CALL, status: "in-progress" },
    });

    const [request] = await fake.apiRequests();
    expect(request).toMatchObject({
      method: "POST",
      path: `/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}.json`,
    });
    expect(request?.headers.authorization).toBe(`Basic ${btoa(`${ACCOUNT}:${testEnv.TWILIO_AUTH_TOKEN}`)}`);
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({ Twiml: twiml });
  });

  it("hangs up a call; changing it afterwards is the explicit call_not_in_progress result", async () => {
    const { fake, rest } = setup();
    expect(await rest.hangup(CALL)).toEqual({ ok: true, call: { sid: CALL, status: "completed" } });
    expect(await rest.updateCall(CALL, { twiml: "<Response/>" })).toEqual({
      ok: false,
      reason: "call_not_in_progress",
    });
    const bodies = (await fake.apiRequests()).map((r) => Object.fromEntries(new URLSearchParams(r.body)));
    expect(bodies).toEqual([{ Status: "completed" }, { Twiml: "<Response/>" }]);
  });

  it("treats hanging up a call the caller already ended as call_not_in_progress", async () => {
    const { fake, rest } = setup();
    await fake.endCall(CALL);
    expect(await rest.hangup(CALL)).toEqual({ ok: false, reason: "call_not_in_progress" });
  });

  it("starts a recording with the channels and status callback asked for", async () => {
    const { fake, rest } = setup();
    const result = await rest.startRecording(CALL, {
      channels: "dual",
      statusCallback: "https://voice.example.test/twilio/recording-status",
    });
    expect(result).toEqual({
      ok: true,
      recording: { sid: expect.stringMatching(/^RE[0-9a-f]{32}$/), status: "in-progress" },
    });
    const [request] = await fake.apiRequests();
    expect(request?.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${CALL}/Recordings.json`);
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      RecordingChannels: "dual",
      RecordingStatusCallback: "https://voice.example.test/twilio/recording-status",
    });
  });

  it("does not start recording a call that has ended", async () => {
    const { fake, rest } = setup();
    await fake.endCall(CALL);
    expect(await rest.startRecording(CALL)).toEqual({ ok: false, reason: "call_not_in_progress" });
  });
});

describe("TwilioRest: recordings", () => {
  it("downloads the WAV from baseUrl, whatever origin Twilio's RecordingUrl had", async () => {
    const { fake, rest } = setup();
    const sid = uniqueSid("RE");
    const recording = await rest.fetchRecording(recordingUrl(sid), {
      format: "wav",
      retryUntil: Date.now() + 5000,
    });
    expect(new TextDecoder().decode(recording.bytes.subarray(0, 4))).toBe("RIFF");
    expect(recording.contentType).toBe("audio/x-wav");
    const requests = await fake.apiRequests();
    expect(requests.map((r) => [r.method, r.path])).toEqual([
      ["GET", `/2010-04-01/Accounts/${ACCOUNT}/Recordings/${sid}.wav`],
    ]);
    expect(requests[0]?.headers.authorization).toBe(
      `Basic ${btoa(`${ACCOUNT}:${testEnv.TWILIO_AUTH_TOKEN}`)}`,
    );
  });

  it("retries while Twilio says the recording is not there yet", async () => {
    const { fake, rest } = setup();
    const sid = uniqueSid("RE");
    await fake.recordingNotReady(sid, 2);
    const recording = await rest.fetchRecording(recordingUrl(sid), {
      format: "wav",
      retryUntil: Date.now() + 10_000,
    });
    expect(recording.bytes.byteLength).toBeGreaterThan(44);
    expect(await fake.apiRequests()).toHaveLength(3);
  });

  it("gives up with Twilio's 404 once retryUntil has passed", async () => {
    const { fake, rest } = setup();
    const sid = uniqueSid("RE");
    await fake.recordingNotReady(sid, 1000);
    const err = await rejection(
      rest.fetchRecording(recordingUrl(sid), { format: "wav", retryUntil: Date.now() + 300 }),
    );
    expect(err).toBeInstanceOf(TwilioError);
    expect(err).toMatchObject({ kind: "http", status: 404, code: 20404 });
    expect((await fake.apiRequests()).length).toBeGreaterThanOrEqual(1);
  });

  it("does not retry other failures", async () => {
    const { fake, rest } = setup();
    await fake.behave({
      status: 500,
      body: JSON.stringify({ code: 20500, message: "Internal Server Error", status: 500 }),
    });
    const err = await rejection(
      rest.fetchRecording(recordingUrl(uniqueSid("RE")), { format: "wav", retryUntil: Date.now() + 10_000 }),
    );
    expect(err).toMatchObject({
      kind: "http",
      status: 500,
      code: 20500,
      twilioMessage: "Internal Server Error",
    });
    expect(await fake.apiRequests()).toHaveLength(1);
  });

  it("refuses a RecordingUrl that is not a Twilio recording, sending nothing and no credentials", async () => {
    const { fake, rest } = setup();
    const err = await rejection(
      rest.fetchRecording("https://evil.example/steal?x=1", { format: "wav", retryUntil: Date.now() + 1000 }),
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({
      code: "VALIDATION_ERROR",
      details: [expect.objectContaining({ field: "RecordingUrl" })],
    });
    expect(await fake.requests()).toEqual([]);
  });

  it("reports a download that is not a WAV file as a bad response", async () => {
    const { fake, rest } = setup();
    await fake.behave({ status: 200, body: "<html>captive portal</html>" });
    const err = await rejection(
      rest.fetchRecording(recordingUrl(uniqueSid("RE")), { format: "wav", retryUntil: Date.now() + 1000 }),
    );
    expect(err).toMatchObject({ name: "TwilioError", kind: "bad_response", status: 200 });
  });
});

describe("TwilioRest: failures", () => {
  it("reports wrong credentials with Twilio's status and error code", async () => {
    const { rest } = setup({ authToken: "wrong-token" });
    const err = await rejection(rest.updateCall(CALL, { twiml: "<Response/>" }));
    expect(err).toBeInstanceOf(TwilioError);
    expect(err).toMatchObject({ kind: "http", status: 401, code: 20003, twilioMessage: "Authenticate" });
    expect((err as Error).message).toContain("20003");
    expect((err as Error).message).not.toContain("wrong-token");
  });

  it("reports TwiML over Twilio's 4,000-character limit as Twilio's 32018, and the call is not changed", async () => {
    const { fake, rest } = setup();
    const twiml = `<Response><Say>${"a".repeat(4000)}</Say></Response>`;
    const err = await rejection(rest.updateCall(CALL, { twiml }));
    expect(err).toMatchObject({
      kind: "http",
      status: 400,
      code: 32018,
      twilioMessage: "Twiml size exceeded maximum allowed value of 4000 characters",
    });
    // The same call still takes TwiML within the limit: the refused update changed nothing.
    expect(await rest.updateCall(CALL, { twiml: "<Response/>" })).toMatchObject({ ok: true });
    expect(await fake.apiRequests()).toHaveLength(2);
  });

  it("reports an error body that is not Twilio's JSON with the status and what came back", async () => {
    const { fake, rest } = setup();
    await fake.behave({ status: 502, body: "<html>Bad gateway</html>" });
    const err = await rejection(rest.hangup(CALL));
    expect(err).toMatchObject({ kind: "http", status: 502 });
    expect((err as TwilioError).code).toBeUndefined();
    expect((err as Error).message).toContain("Bad gateway");
  });

  it("reports a success without a resource as a bad response", async () => {
    const { fake, rest } = setup();
    await fake.behave({ status: 200, body: "{}" });
    const err = await rejection(rest.updateCall(CALL, { twiml: "<Response/>" }));
    expect(err).toMatchObject({ kind: "bad_response", status: 200 });
  });

  it("times out a request Twilio does not answer in time", async () => {
    const { fake, rest } = setup({ timeoutMs: 100 });
    await fake.behave({ delayMs: 2000 });
    const err = await rejection(rest.hangup(CALL));
    expect(err).toBeInstanceOf(TwilioError);
    expect(err).toMatchObject({ kind: "timeout" });
    expect((err as Error).cause).toBeDefined();
  });

  it("reports an unreachable server as a network error", async () => {
    const rest = new TwilioRest({ baseUrl: "http://127.0.0.1:9", accountSid: ACCOUNT, authToken: "x" });
    const err = await rejection(rest.hangup(CALL));
    expect(err).toMatchObject({ name: "TwilioError", kind: "network" });
  });
});
