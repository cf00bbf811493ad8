import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app.ts";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "./env.ts";
import { ACCOUNT_SID, recordingPath, rememberActions } from "./twilio.ts";
import { parseTwiml, type TwimlVerb } from "./twiml.ts";

/**
 * A signed Twilio webhook to the app with its own ExecutionContext, waited on until the work
 * the answer left behind (waitUntil: call-log writes) is done; `env` may add settings.
 */
export async function signedWebhook(
  path: string,
  params: Record<string, string>,
  env: object = testEnv,
): Promise<{ status: number; contentType: string | null; verbs: TwimlVerb[] }> {
  const url = `${testEnv.PUBLIC_BASE_URL}${recordingPath(path, params.CallSid)}`;
  const signature = await computeSignature(testEnv.TWILIO_AUTH_TOKEN, url, params);
  const ctx = createExecutionContext();
  const res = await createApp().fetch(
    new Request(url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature },
      body: new URLSearchParams(params),
    }),
    env,
    ctx,
  );
  const body = await res.text();
  rememberActions(params.CallSid, body);
  await waitOnExecutionContext(ctx);
  return { status: res.status, contentType: res.headers.get("content-type"), verbs: parseTwiml(body) };
}

/** Twilio's incoming-call parameters for any kind of call; `To` left out when undefined. */
export function callForm(
  callSid: string,
  fields: { from: string; to?: string; direction?: string },
): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: "2010-04-01",
    CallSid: callSid,
    CallStatus: "ringing",
    Direction: fields.direction ?? "inbound",
    From: fields.from,
    Caller: fields.from,
    ...(fields.to !== undefined && { To: fields.to, Called: fields.to }),
  };
}
