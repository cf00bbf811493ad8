import { splitText } from "../audio/sentences.ts";
import type { CallReply, DialTarget } from "../call/reply.ts";
import { dial, hangup, play, record, redirect, say, twiml, type Verb } from "./twiml.ts";

/** Twilio's own voice for text we could not synthesise. */
const FALLBACK_VOICE = "Polly.Joanna";
/**
 * The most text one <Say> with a Polly voice may hold: 3,000 UTF-8 bytes (Twilio warning
 * 13521, "<Say> element character limits exceeded"); past it Twilio does not speak it.
 */
export const SAY_MAX_UTF8_BYTES = 3000;

const utf8 = new TextEncoder();

/** `text` in Twilio's voice, as as many <Say> verbs as its length needs, cut at sentence ends. */
function sayAll(text: string): Verb[] {
  return splitText(text, SAY_MAX_UTF8_BYTES, (piece) => utf8.encode(piece).byteLength).map((piece) =>
    say(piece, { voice: FALLBACK_VOICE }),
  );
}

export interface ReplyTwimlOptions {
  /** absolute URL of the recording webhook, where Twilio posts the caller's next turn */
  recordAction: string;
  /** where Twilio goes when the caller said nothing at all (it then skips the record action) */
  silenceAction: string;
  /** audio id → signed URL Twilio fetches for <Play> */
  audioUrl: (audioId: string) => Promise<string>;
  /** absolute URL of the dial webhook, where Twilio reports how a transfer's <Dial> ended */
  dialAction: string;
}

/** How long a transfer target may ring before the caller comes back to the agent, s. */
const TRANSFER_RING_SECONDS = 20;

/** A transfer's <Dial>: the outcome goes to `action`, the caller hears ringing until the target answers. */
export function transferDial(target: DialTarget, action: string): Verb {
  return dial(target.to, {
    action,
    method: "POST",
    timeout: TRANSFER_RING_SECONDS,
    answerOnBridge: true,
    ...(target.callerId && { callerId: target.callerId }),
  });
}

/** A CallReply as TwiML: speech as <Play> or <Say>, then <Record> the next turn or <Hangup>. */
export async function replyTwiml(reply: CallReply, options: ReplyTwimlOptions): Promise<string> {
  const verbs: Verb[] = [];
  for (const speech of reply.speech) {
    if (speech.audioId) verbs.push(play(await options.audioUrl(speech.audioId)));
    else verbs.push(...sayAll(speech.text));
  }
  if (reply.next === "listen") {
    verbs.push(
      record({
        action: options.recordAction,
        method: "POST",
        maxLength: 30,
        timeout: 2,
        playBeep: false,
        trim: "trim-silence",
      }),
      // Twilio moves past <Record> without calling its action when nothing was recorded.
      redirect(options.silenceAction, { method: "POST" }),
    );
  } else if (reply.next === "dial" && reply.dial) {
    verbs.push(transferDial(reply.dial, options.dialAction));
  } else {
    verbs.push(hangup());
  }
  return twiml(...verbs);
}

/** For a REST call update (stream mode): leave the Media Stream and <Dial> the transfer target. */
export function transferTwiml(target: DialTarget, action: string): string {
  return twiml(transferDial(target, action));
}

/** For a REST call update (max duration reached): say goodbye, hang up; no text: just hang up. */
export function goodbyeTwiml(text: string): string {
  return text ? twiml(...sayAll(text), hangup()) : twiml(hangup());
}
