import type { Context } from "hono";
import { AudioStore } from "../call/audio-store.ts";
import { type CallReply, PHRASES, saying } from "../call/reply.ts";
import { sign, signingSecret } from "../call/tokens.ts";
import { twilioForm } from "../http/twilio-form.ts";
import type { AppEnv } from "../http/types.ts";
import { errorFields } from "../log.ts";
import { replyTwiml } from "../twilio/call-twiml.ts";
import { connectStream, twiml } from "../twilio/twiml.ts";

/**
 * How Twilio's voice webhooks read a request and answer it: the form's fields, TwiML bodies
 * (a reply, a Media Stream, an apology), the public URLs they name, and the call's session.
 * Shared by the incoming-call answer (twilio-incoming-call.ts) and the other voice routes.
 */

/** The request context of a voice webhook. */
export type Ctx = Context<AppEnv>;

/** Twilio opens the Media Stream within a second or two of our answer. */
const STREAM_TOKEN_LIFETIME_MS = 60_000;

/** This Worker's public origin (`PUBLIC_BASE_URL`, else the request's), without a trailing slash. */
export function baseUrl(c: Ctx): string {
  return (c.var.services.settings.PUBLIC_BASE_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

/** `body` as a 200 TwiML response (text/xml). */
export function xml(c: Ctx, body: string): Response {
  return c.body(body, 200, { "Content-Type": "text/xml; charset=utf-8" });
}

/**
 * A reply as TwiML. `snapshot`: the answer's signed call snapshot, carried in the query of the
 * recording webhooks (covered by Twilio's signature), so the first one can create the session.
 */
export async function render(c: Ctx, reply: CallReply, snapshot?: string): Promise<Response> {
  const base = baseUrl(c);
  const audio = audioStore(c);
  const call = snapshot ? `call=${snapshot}` : "";
  return xml(
    c,
    await replyTwiml(reply, {
      recordAction: `${base}/webhooks/twilio/recording${call && `?${call}`}`,
      silenceAction: `${base}/webhooks/twilio/recording?no_speech=${reply.turns}${call && `&${call}`}`,
      dialAction: `${base}/webhooks/twilio/dial`,
      audioUrl: (id) => audio.signedUrl(id),
    }),
  );
}

/** The CallSid the form names, for the log line of a request that failed (maybe while parsing it). */
export async function callSidOf(c: Ctx): Promise<string | undefined> {
  const form = await twilioForm(c).catch((): Record<string, string> => ({}));
  return form.CallSid;
}

/** Any failure while answering: apologise in Twilio's voice, and keep listening or say goodbye. */
export async function answerFailure(
  c: Ctx,
  where: string,
  err: unknown,
  next: CallReply["next"],
): Promise<Response> {
  c.var.services.log.error("twilio_webhook_failed", {
    call_sid: await callSidOf(c),
    where,
    ...errorFields(err),
  });
  return render(c, {
    speech: [saying(next === "listen" ? PHRASES.apology : PHRASES.unavailable)],
    next,
    turns: 0,
  });
}

/**
 * <Connect><Stream> to this call's socket. <Stream url> takes no query string, so the call
 * goes in the path and a one-time signed token in a <Parameter>, checked on `start`; on the
 * answer, the signed call snapshot too (`call`), from which `start` creates the session.
 */
export async function streamAnswer(c: Ctx, callSid: string, snapshot?: string): Promise<Response> {
  const expires = Date.now() + STREAM_TOKEN_LIFETIME_MS;
  const token = `${expires}.${await sign(signingSecret(c.var.services.settings), "stream", callSid, expires)}`;
  const wsBase = baseUrl(c).replace(/^http/, "ws");
  return xml(
    c,
    twiml(
      connectStream({
        url: `${wsBase}/webhooks/twilio/media/${callSid}`,
        parameters: { token, ...(snapshot && { call: snapshot }) },
      }),
    ),
  );
}

/** The call's CallSession Durable Object (one per CallSid), for typed RPC. */
export function session(c: Ctx, callSid: string) {
  return c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid));
}

/** The signed audio cache (greetings and replies Twilio fetches by URL). */
export function audioStore(c: Ctx): AudioStore {
  return new AudioStore(c.env.AUDIO_CACHE, signingSecret(c.var.services.settings), baseUrl(c));
}
