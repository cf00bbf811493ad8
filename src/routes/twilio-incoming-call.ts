import type { StartInput } from "../call/call-state.ts";
import { greetingSpeech } from "../call/greeting.ts";
import { sealSnapshot, snapshotOf } from "../call/snapshot.ts";
import { signingSecret } from "../call/tokens.ts";
import { recordSessionless, unansweredSummary } from "../call/unanswered.ts";
import { type CallDecision, decideCall } from "../config/call-routing.ts";
import { callerNumber } from "../config/caller-rules.ts";
import { twilioForm } from "../http/twilio-form.ts";
import { errorFields } from "../log.ts";
import { openAIProvidersFor } from "../providers/openai.ts";
import type { TextToSpeech } from "../providers/types.ts";
import { callNumber } from "../twilio/call-number.ts";
import { dial, reject, twiml } from "../twilio/twiml.ts";
import { type IncomingCallEvent, parseVoiceWebhook } from "../twilio/webhook.ts";
import {
  answerFailure,
  audioStore,
  baseUrl,
  type Ctx,
  render,
  session,
  streamAnswer,
  xml,
} from "./twilio-reply.ts";

/**
 * The incoming-call answer (Twilio's voice webhook, POST /webhooks/twilio/voice): find the number
 * the call is for, decide what its routing says (answer, reject, forward), and answer with TwiML:
 * a Media Stream for stream and realtime modes, the greeting and a <Record> for turns mode.
 */

/** Synthesising a greeting not cached yet, within Twilio's 15 s wait for the answer. */
const GREETING_BUDGET_MS = 5000;

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
 * Answers Twilio's voice webhook. The answer needs only the signature, the config and the TwiML:
 * the call's session (and its call-log entry) is created later from the signed snapshot the TwiML
 * carries (the Media Stream's `start`, or the first recording webhook), timed from this moment.
 * Always TwiML: a failure becomes an apology and a hang-up.
 */
export async function answerIncomingCall(c: Ctx): Promise<Response> {
  try {
    const answeredAt = Date.now();
    const event = parseVoiceWebhook("incoming_call", await twilioForm(c));
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
      GREETING_BUDGET_MS,
      c.var.services.log.with({ call_sid: event.callSid }),
    );
    return render(c, { speech: [greeting], next: "listen", turns: 0 }, snapshot);
  } catch (err) {
    return answerFailure(c, "voice", err, "hangup");
  }
}
