import { exports } from "cloudflare:workers";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "./env.ts";

/** Per CallSid, the signed call snapshot its answer's <Record action> carried (see recordingPath). */
const snapshots = new Map<string, string>();

/** Remembers the call snapshot in a TwiML answer's <Record action>, as Twilio keeps the URL it is given. */
export function rememberActions(callSid: string | undefined, body: string): void {
  const action = /<Record [^>]*action="([^"]+)"/.exec(body)?.[1];
  const call = action ? new URL(action.replaceAll("&amp;", "&")).searchParams.get("call") : null;
  if (callSid && call) snapshots.set(callSid, call);
}

/**
 * The recording webhook's path as Twilio calls it: the <Record action> (or the <Redirect> after
 * it) of the call's answer carries the signed call snapshot in its query, so a test's bare
 * "/webhooks/twilio/recording[?no_speech=n]" gets the `call` parameter that call's answer gave.
 */
export function recordingPath(path: string, callSid: string | undefined): string {
  const url = new URL(path, "http://path.invalid");
  const call = callSid ? snapshots.get(callSid) : undefined;
  if (url.pathname !== "/webhooks/twilio/recording" || !call || url.searchParams.has("call")) return path;
  url.searchParams.set("call", call);
  return `${url.pathname}${url.search}`;
}

/**
 * Plays Twilio: form-encoded webhooks signed with the account's auth token over the public
 * URL, exactly as Twilio sends them, to the Worker's real fetch handler. Like Twilio, a recording
 * webhook goes to the action URL the call's answer named (recordingPath).
 */
export async function twilioPost(
  path: string,
  params: Record<string, string>,
  options: { signature?: string } = {},
): Promise<{ status: number; body: string; contentType: string | null }> {
  const url = `${testEnv.PUBLIC_BASE_URL}${recordingPath(path, params.CallSid)}`;
  const signature = options.signature ?? (await computeSignature(testEnv.TWILIO_AUTH_TOKEN, url, params));
  const response = await exports.default.fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature },
    body: new URLSearchParams(params).toString(),
  });
  const body = await response.text();
  rememberActions(params.CallSid, body);
  return { status: response.status, body, contentType: response.headers.get("content-type") };
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
