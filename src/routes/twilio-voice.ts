import type { Context } from "hono";
import { Hono } from "hono";
import { AudioStore } from "../call/audio-store.ts";
import { callLog } from "../call/call-log.ts";
import type { StartInput } from "../call/call-state.ts";
import { greetingSpeech } from "../call/greeting.ts";
import { type CallReply, PHRASES, saying } from "../call/reply.ts";
import { sealSnapshot, snapshotOf } from "../call/snapshot.ts";
import { sign, signingSecret } from "../call/tokens.ts";
import { recordSessionless, unansweredSummary, unstartedSummary } from "../call/unanswered.ts";
import { type CallDecision, decideCall, UNKNOWN_NUMBER } from "../config/call-routing.ts";
import { callerNumber } from "../config/caller-rules.ts";
import { AppError } from "../errors.ts";
import { requireTwilioSignature } from "../http/twilio-auth.ts";
import type { AppEnv } from "../http/types.ts";
import { errorFields } from "../log.ts";
import { openAIProvidersFor } from "../providers/openai.ts";
import type { TextToSpeech } from "../providers/types.ts";
import { callNumber } from "../twilio/call-number.ts";
import { replyTwiml } from "../twilio/call-twiml.ts";
import { connectStream, dial, hangup, reject, twiml } from "../twilio/twiml.ts";
import {
  type CallStatusEvent,
  type FinalCallStatus,
  type IncomingCallEvent,
  isFinalStatus,
  parseVoiceWebhook,
  recordingKey,
} from "../twilio/webhook.ts";

/**
 * Twilio's voice webhooks. Each answers TwiML whatever happens inside, because a caller
 * must never hear Twilio's "application error": a failure becomes an apology.
 */

type Ctx = Context<AppEnv>;

/** Twilio opens the Media Stream within a second or two of our answer. */
const STREAM_TOKEN_LIFETIME_MS = 60_000;
/** Synthesising a greeting not cached yet, within Twilio's 15 s wait for the answer. */
const GREETING_BUDGET_MS = 5000;

function baseUrl(c: Ctx): string {
  return (c.var.services.settings.PUBLIC_BASE_URL ?? new URL(c.req.url).origin).replace(/\/+$/, "");
}

function xml(c: Ctx, body: string): Response {
  return c.body(body, 200, { "Content-Type": "text/xml; charset=utf-8" });
}

async function formOf(c: Ctx): Promise<Record<string, string>> {
  const form = await c.req.parseBody();
  return Object.fromEntries(
    Object.entries(form).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

/**
 * A reply as TwiML. `snapshot`: the answer's signed call snapshot, carried in the query of the
 * recording webhooks (covered by Twilio's signature), so the first one can create the session.
 */
async function render(c: Ctx, reply: CallReply, snapshot?: string): Promise<Response> {
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
async function callSidOf(c: Ctx): Promise<string | undefined> {
  const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  return typeof form.CallSid === "string" ? form.CallSid : undefined;
}

/** Any failure while answering: apologise in Twilio's voice, and keep listening or say goodbye. */
async function answerFailure(
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
async function streamAnswer(c: Ctx, callSid: string, snapshot?: string): Promise<Response> {
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

export function session(c: Ctx, callSid: string) {
  return c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid));
}

/**
 * Creates the call's session at answer, for a number that records (Twilio's REST recording
 * starts from the session's alarm, timed from the answer), off the answer's path: the request
 * to its Durable Object leaves now, and the Worker keeps running until it is done even after the
 * answer is sent. A failure is logged with the call; the call still gets its TwiML, and the
 * snapshot it carries creates the session later.
 */
function startCall(c: Ctx, input: StartInput): void {
  const started = session(c, input.callSid)
    .start(input)
    .then(
      () => undefined,
      (err: unknown) => {
        c.var.services.log.error("call_start_failed", { call_sid: input.callSid, ...errorFields(err) });
      },
    );
  c.executionCtx.waitUntil(started);
}

function audioStore(c: Ctx): AudioStore {
  return new AudioStore(c.env.AUDIO_CACHE, signingSecret(c.var.services.settings), baseUrl(c));
}

function openai(c: Ctx) {
  return openAIProvidersFor(c.var.services.settings);
}

/**
 * Text-to-speech built on first use: an answer whose greeting is known to be cached needs none,
 * and building the OpenAI client costs about as much CPU as the rest of the answer.
 */
function lazyTts(c: Ctx): TextToSpeech {
  let tts: TextToSpeech | undefined;
  const get = () => {
    tts ??= openai(c).tts;
    return tts;
  };
  return {
    synthesize: (req) => get().synthesize(req),
    synthesizeStream: (req) => get().synthesizeStream(req),
  };
}

/** A caller rule's reject, or a forward: answered here, recorded, no session. */
async function unanswered(
  c: Ctx,
  decision: CallDecision,
  event: IncomingCallEvent,
  at: Date,
): Promise<Response> {
  const { action } = decision.routing;
  c.executionCtx.waitUntil(
    recordSessionless(
      c.env,
      unansweredSummary(decision, { callSid: event.callSid, from: event.from, at }),
      c.var.services.log,
    ),
  );
  if (action.type !== "forward") return xml(c, twiml(reject("rejected")));
  const number = encodeURIComponent(decision.phoneNumber);
  return xml(
    c,
    twiml(
      dial(action.to, {
        // Forwarding keeps the caller's ID; a withheld one stays withheld (Twilio's default).
        ...(callerNumber(event.from) && { callerId: callerNumber(event.from) as string }),
        action: `${baseUrl(c)}/webhooks/twilio/forwarded?number=${number}`,
      }),
    ),
  );
}

/**
 * An answered call that ended before its session was created: logged from the status callback
 * (CallSid, From, To, CallDuration) with the config its number resolves to, unless the log
 * already has it (a rejected or forwarded call's own entry).
 */
async function logUnstarted(c: Ctx, event: CallStatusEvent & { callStatus: FinalCallStatus }): Promise<void> {
  const { settings } = c.var.services;
  const endedAt = new Date();
  const durationSeconds = event.callDuration ?? 0;
  const decision = await decideCall(
    c.var.services,
    callNumber(event, {
      defaultCountry: settings.DEFAULT_COUNTRY,
      defaultClientNumber: settings.DEFAULT_CLIENT_NUMBER,
    }),
    { callSid: event.callSid, at: new Date(endedAt.getTime() - durationSeconds * 1000) },
  );
  const summary = unstartedSummary(decision, {
    callSid: event.callSid,
    from: event.from,
    status: event.callStatus,
    durationSeconds,
    endedAt,
  });
  await recordSessionless(c.env, summary, c.var.services.log, { ifAbsent: true });
}

export function twilioVoiceRoutes() {
  const app = new Hono<AppEnv>();
  app.use(requireTwilioSignature);

  // The answer needs only the signature, the config and the TwiML: the call's session (and its
  // call-log entry) is created later from the signed snapshot the TwiML carries (the Media
  // Stream's `start`, or the first recording webhook), timed from this moment.
  app.post("/voice", async (c) => {
    try {
      const answeredAt = Date.now();
      const event = parseVoiceWebhook("incoming_call", await formOf(c));
      const { settings } = c.var.services;
      const at = new Date();
      const decision = await decideCall(
        c.var.services,
        callNumber(event, {
          defaultCountry: settings.DEFAULT_COUNTRY,
          defaultClientNumber: settings.DEFAULT_CLIENT_NUMBER,
        }),
        { callSid: event.callSid, at },
      );
      if (decision.routing.action.type !== "answer") return unanswered(c, decision, event, at);
      const config = decision.routing.effective;
      const mode = config.conversation_mode;
      if (config.enable_recording) {
        startCall(c, {
          callSid: event.callSid,
          accountSid: event.accountSid,
          from: event.from,
          to: decision.phoneNumber,
          config,
          configSource: decision.resolved.source,
          routing: {
            number_rule: decision.number.rule,
            variant: decision.routing.variant,
            rule: decision.routing.rule,
            after_hours: decision.routing.after_hours,
          },
          mode,
          publicBaseUrl: baseUrl(c),
          answeredAt,
        });
      }
      const snapshot = await sealSnapshot(
        signingSecret(settings),
        snapshotOf(decision, { ...event, answeredAt, baseUrl: baseUrl(c) }),
        config.max_call_duration,
      );
      // stream and realtime modes talk over a Media Stream.
      if (mode !== "turns") return streamAnswer(c, event.callSid, snapshot);
      const greeting = await greetingSpeech(
        audioStore(c),
        lazyTts(c),
        config,
        AbortSignal.timeout(GREETING_BUDGET_MS),
        c.var.services.log.with({ call_sid: event.callSid }),
      );
      return render(c, { speech: [greeting], next: "listen", turns: 0 }, snapshot);
    } catch (err) {
      return answerFailure(c, "voice", err, "hangup");
    }
  });

  app.post("/recording", async (c) => {
    try {
      const form = await formOf(c);
      const silent = c.req.query("no_speech");
      // The answer's signed call snapshot: the first recording webhook creates the session from it.
      const snapshot = c.req.query("call");
      const callSid = form.CallSid;
      if (silent !== undefined && callSid && !form.RecordingUrl) {
        return render(
          c,
          await session(c, callSid).turn({
            callSid,
            key: `no-speech:${silent}`,
            recordingUrl: null,
            ...(snapshot && { snapshot }),
          }),
        );
      }
      const event = parseVoiceWebhook("recording", form);
      return render(
        c,
        await session(c, event.callSid).turn({
          callSid: event.callSid,
          ...(snapshot && { snapshot }),
          key: recordingKey(event),
          recordingUrl: event.recordingUrl,
          ...(event.recordingDuration !== undefined && { recordingSeconds: event.recordingDuration }),
        }),
      );
    } catch (err) {
      return answerFailure(c, "recording", err, "listen");
    }
  });

  // A transfer's <Dial> ended: hang up after a connected call, else the caller is back with the agent.
  app.post("/dial", async (c) => {
    try {
      const event = parseVoiceWebhook("dial", await formOf(c));
      const back = await session(c, event.callSid).dialEnded({ status: event.dialCallStatus });
      return back.stream ? streamAnswer(c, event.callSid) : render(c, back.reply);
    } catch (err) {
      return answerFailure(c, "dial", err, "hangup");
    }
  });

  // Stream mode: Twilio's WebSocket, handed to the call's Durable Object.
  app.get("/media/:callSid{CA[0-9a-zA-Z]+}", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError("UPGRADE_REQUIRED", "A Media Stream is a WebSocket: expected `Upgrade: websocket`");
    }
    return session(c, c.req.param("callSid")).fetch(c.req.raw);
  });

  // The end of a forwarded call's <Dial>: its duration goes into the call's record.
  app.post("/forwarded", async (c) => {
    try {
      const event = parseVoiceWebhook("dial", await formOf(c));
      // The number's shard, named in the action URL we gave (covered by Twilio's signature).
      const number = c.req.query("number") ?? UNKNOWN_NUMBER;
      await callLog(c.env, number).forwardEnded(
        event.callSid,
        event.dialCallDuration ?? 0,
        event.dialCallStatus,
      );
    } catch (err) {
      c.var.services.log.error("twilio_forwarded_failed", {
        call_sid: await callSidOf(c),
        ...errorFields(err),
      });
    }
    return xml(c, twiml(hangup()));
  });

  app.post("/status", async (c) => {
    try {
      const event = parseVoiceWebhook("call_status", await formOf(c));
      if (isFinalStatus(event.callStatus)) {
        const ended = await session(c, event.callSid).end({
          status: event.callStatus,
          ...(event.callDuration !== undefined && { durationSeconds: event.callDuration }),
        });
        // No session: the call ended before it had one (during the greeting), or was never answered.
        if (!ended) await logUnstarted(c, { ...event, callStatus: event.callStatus });
      }
    } catch (err) {
      c.var.services.log.error("twilio_status_failed", { call_sid: await callSidOf(c), ...errorFields(err) });
    }
    return xml(c, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  return app;
}
