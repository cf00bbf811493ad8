import { exports } from "cloudflare:workers";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "./env.ts";

/**
 * Plays Twilio: form-encoded webhooks signed with the account's auth token over the public
 * URL, exactly as Twilio sends them, to the Worker's real fetch handler.
 */
export async function twilioPost(
  path: string,
  params: Record<string, string>,
  options: { signature?: string; env?: object } = {},
): Promise<{ status: number; body: string; contentType: string | null }> {
  const url = `${testEnv.PUBLIC_BASE_URL}${path}`;
  const signature = options.signature ?? (await computeSignature(testEnv.TWILIO_AUTH_TOKEN, url, params));
  const response = await exports.default.fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature },
    body: new URLSearchParams(params).toString(),
  });
  return {
    status: response.status,
    body: await response.text(),
    contentType: response.headers.get("content-type"),
  };
}

export const ACCOUNT_SID = "AC00000000000000000000000000000000";

export function callSid(): string {
  return `CA${crypto.randomUUID().replace(/-/g, "")}`;
}

export function recordingSid(): string {
  return `RE${crypto.randomUUID().replace(/-/g, "")}`;
}

export function incomingCall(sid: string, to: string, from = "+14155550100"): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: "2010-04-01",
    CallSid: sid,
    CallStatus: "ringing",
    Direction: "inbound",
    From: from,
    To: to,
    Caller: from,
    Called: to,
  };
}

export function recordingDone(sid: string, recording: string, to: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    CallSid: sid,
    CallStatus: "in-progress",
    From: "+14155550100",
    To: to,
    RecordingSid: recording,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recording}`,
    RecordingDuration: "3",
    Digits: "hangup",
  };
}

export function callEnded(sid: string, to: string, duration = 42): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    CallSid: sid,
    CallStatus: "completed",
    CallDuration: String(duration),
    From: "+14155550100",
    To: to,
  };
}
