import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors.ts";
import { parseVoiceWebhook, recordingKey } from "../../../src/twilio/webhook.ts";

const ACCOUNT = "AC00000000000000000000000000000000";
const CALL = "CA11111111111111111111111111111111";
const RECORDING = "RE22222222222222222222222222222222";
const RECORDING_URL = `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT}/Recordings/${RECORDING}`;

// What Twilio POSTs to a number's voice URL (trimmed; it sends more fields, which are ignored).
const incomingForm = () =>
  new URLSearchParams({
    AccountSid: ACCOUNT,
    ApiVersion: "2010-04-01",
    CallSid: CALL,
    CallStatus: "ringing",
    Called: "+15005550001",
    Caller: "+15005550006",
    Direction: "inbound",
    From: "+15005550006",
    FromCity: "SAN FRANCISCO",
    To: "+15005550001",
  });

function validationError(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError && err.code === "VALIDATION_ERROR") return err;
    throw err;
  }
  throw new Error("expected a VALIDATION_ERROR");
}

describe("parseVoiceWebhook: incoming call", () => {
  it("reads the call's identity, parties, direction and status", () => {
    expect(parseVoiceWebhook("incoming_call", incomingForm())).toEqual({
      kind: "incoming_call",
      callSid: CALL,
      accountSid: ACCOUNT,
      from: "+15005550006",
      to: "+15005550001",
      direction: "inbound",
      callStatus: "ringing",
    });
  });

  it("accepts a plain object as the form", () => {
    const event = parseVoiceWebhook("incoming_call", Object.fromEntries(incomingForm()));
    expect(event.callSid).toBe(CALL);
  });

  it("takes a Voice SDK call with no To (From=client:alice) as To empty", () => {
    const form = incomingForm();
    form.delete("To");
    form.set("From", "client:alice");
    expect(parseVoiceWebhook("incoming_call", form)).toMatchObject({ from: "client:alice", to: "" });
  });

  it.each(["CallSid", "AccountSid", "From", "Direction", "CallStatus"])(
    "names %s when it is missing",
    (field) => {
      const form = incomingForm();
      form.delete(field);
      const error = validationError(() => parseVoiceWebhook("incoming_call", form));
      expect(error.details).toEqual([expect.objectContaining({ field, rule: "required" })]);
      expect(error.message).toContain(field);
    },
  );

  it("names every missing field at once, counting blank values as missing", () => {
    const error = validationError(() =>
      parseVoiceWebhook("incoming_call", { CallSid: "  ", To: "+15005550001" }),
    );
    expect(error.details.map((d) => d.field)).toEqual([
      "CallSid",
      "AccountSid",
      "From",
      "Direction",
      "CallStatus",
    ]);
  });

  it("rejects a call status Twilio does not document", () => {
    const form = incomingForm();
    form.set("CallStatus", "on-fire");
    const error = validationError(() => parseVoiceWebhook("incoming_call", form));
    expect(error.details).toEqual([expect.objectContaining({ field: "CallStatus", rule: "enum" })]);
  });
});

describe("parseVoiceWebhook: <Record action> callback", () => {
  it("reads the recording's SID, URL, duration and the key that ended it", () => {
    const event = parseVoiceWebhook("recording", {
      AccountSid: ACCOUNT,
      CallSid: CALL,
      RecordingSid: RECORDING,
      RecordingUrl: RECORDING_URL,
      RecordingDuration: "7",
      Digits: "hangup",
    });
    expect(event).toEqual({
      kind: "recording",
      callSid: CALL,
      recordingSid: RECORDING,
      recordingUrl: RECORDING_URL,
      recordingDuration: 7,
      digits: "hangup",
    });
  });

  it("leaves out the optional fields Twilio did not send", () => {
    const event = parseVoiceWebhook("recording", { CallSid: CALL, RecordingUrl: RECORDING_URL });
    expect(event).toEqual({ kind: "recording", callSid: CALL, recordingUrl: RECORDING_URL });
  });

  it("requires the recording URL to be an absolute URL and the duration a number of seconds", () => {
    const error = validationError(() =>
      parseVoiceWebhook("recording", {
        CallSid: CALL,
        RecordingUrl: "/Recordings/RE1",
        RecordingDuration: "7s",
      }),
    );
    expect(error.details.map((d) => [d.field, d.rule])).toEqual([
      ["RecordingDuration", "integer"],
      ["RecordingUrl", "url"],
    ]);
  });
});

describe("parseVoiceWebhook: call status callback", () => {
  it("reads the status and, once the call has ended, its duration", () => {
    expect(
      parseVoiceWebhook("call_status", {
        CallSid: CALL,
        CallStatus: "completed",
        CallDuration: "42",
        From: "+15005550006",
        To: "+15005550001",
      }),
    ).toEqual({
      kind: "call_status",
      callSid: CALL,
      callStatus: "completed",
      callDuration: 42,
      from: "+15005550006",
      to: "+15005550001",
      direction: "inbound",
    });
  });

  it("names a missing status", () => {
    const error = validationError(() =>
      parseVoiceWebhook("call_status", { CallSid: CALL, From: "+15005550006", To: "+15005550001" }),
    );
    expect(error.details.map((d) => d.field)).toEqual(["CallStatus"]);
  });
});

describe("recordingKey", () => {
  it("is the RecordingSid when Twilio sent one", () => {
    expect(
      recordingKey({
        kind: "recording",
        callSid: CALL,
        recordingSid: RECORDING,
        recordingUrl: `${RECORDING_URL}x`,
      }),
    ).toBe(RECORDING);
  });

  it("is the last segment of RecordingUrl otherwise, without a file extension", () => {
    expect(recordingKey({ kind: "recording", callSid: CALL, recordingUrl: RECORDING_URL })).toBe(RECORDING);
    expect(recordingKey({ kind: "recording", callSid: CALL, recordingUrl: `${RECORDING_URL}.wav` })).toBe(
      RECORDING,
    );
  });
});
