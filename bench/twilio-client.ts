import { createHmac, randomUUID } from "node:crypto";

/**
 * Playing Twilio from Node: signed form webhooks and Media Stream handshakes. The signature is
 * computed here with node:crypto (HMAC-SHA1 of the URL then each parameter's name and value in
 * name order, base64), independently of src/twilio/signature.ts, as Twilio's own servers would.
 */

export const ACCOUNT_SID = "AC00000000000000000000000000000000";
/** The Twilio fake's credentials (test/fakes/twilio.ts), so the Worker's REST calls are accepted. */
export const AUTH_TOKEN = "test-twilio-auth-token";
const CALLER = "+14155550100";

export function twilioSignature(
  url: string,
  params: Record<string, string> = {},
  authToken = AUTH_TOKEN,
): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac("sha1", authToken).update(data, "utf8").digest("base64");
}

export const newCallSid = () => `CA${randomUUID().replaceAll("-", "")}`;
export const newRecordingSid = () => `RE${randomUUID().replaceAll("-", "")}`;
export const newStreamSid = () => `MZ${randomUUID().replaceAll("-", "")}`;

/**
 * Where Twilio posts a turns call's recordings: the path and query of the <Record action> in the
 * voice webhook's TwiML (its query carries the signed call snapshot that creates the session).
 */
export function recordActionPath(twiml: string): string {
  const action = /<Record [^>]*action="([^"]+)"/.exec(twiml)?.[1];
  if (!action) throw new Error(`the voice webhook did not answer with <Record>: ${twiml.slice(0, 300)}`);
  const url = new URL(action.replaceAll("&amp;", "&"));
  return `${url.pathname}${url.search}`;
}

/** A form webhook exactly as Twilio posts it to `publicBase + path`. */
export function signedForm(publicBase: string, path: string, params: Record<string, string>) {
  return {
    method: "POST" as const,
    path,
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": twilioSignature(`${publicBase}${path}`, params),
    },
    body: new URLSearchParams(params).toString(),
  };
}

export function incomingCall(callSid: string, to: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: "2010-04-01",
    CallSid: callSid,
    CallStatus: "ringing",
    Direction: "inbound",
    From: CALLER,
    To: to,
    Caller: CALLER,
    Called: to,
  };
}

export function recordingDone(callSid: string, recordingSid: string, to: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    CallSid: callSid,
    CallStatus: "in-progress",
    From: CALLER,
    To: to,
    RecordingSid: recordingSid,
    RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${recordingSid}`,
    RecordingDuration: "3",
    Digits: "hangup",
  };
}

export function callEnded(callSid: string, to: string): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    CallSid: callSid,
    CallStatus: "completed",
    CallDuration: "10",
    From: CALLER,
    To: to,
  };
}
