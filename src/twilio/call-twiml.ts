import type { CallReply } from "../call/reply.ts";
import { hangup, play, record, redirect, say, twiml, type Verb } from "./twiml.ts";

/** Twilio's own voice for text we could not synthesise. */
const FALLBACK_VOICE = "Polly.Joanna";

export interface ReplyTwimlOptions {
  /** absolute URL of the recording webhook, where Twilio posts the caller's next turn */
  recordAction: string;
  /** where Twilio goes when the caller said nothing at all (it then skips the record action) */
  silenceAction: string;
  /** audio id → signed URL Twilio fetches for <Play> */
  audioUrl: (audioId: string) => Promise<string>;
}

/** A CallReply as TwiML: speech as <Play> or <Say>, then <Record> the next turn or <Hangup>. */
export async function replyTwiml(reply: CallReply, options: ReplyTwimlOptions): Promise<string> {
  const verbs: Verb[] = [];
  for (const speech of reply.speech) {
    verbs.push(
      speech.audioId
        ? play(await options.audioUrl(speech.audioId))
        : say(speech.text, { voice: FALLBACK_VOICE }),
    );
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
  } else {
    verbs.push(hangup());
  }
  return twiml(...verbs);
}

/** For a REST call update (max duration reached): say goodbye, hang up. */
export function goodbyeTwiml(text: string): string {
  return twiml(say(text, { voice: FALLBACK_VOICE }), hangup());
}
