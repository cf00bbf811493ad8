/**
 * What the caller hears next, independent of Twilio's wire format: speech (our synthesised
 * audio, or text for Twilio's own voice when synthesis failed), then listen or hang up.
 * The Twilio adapter (twilio/call-twiml.ts) turns it into TwiML.
 */
export interface Speech {
  text: string;
  /** id of synthesised audio in the AudioStore; null means "say `text` in Twilio's voice" */
  audioId: string | null;
}

/** Where a transfer connects the caller: E.164 or a sip: URI (config/tools.ts). */
export interface DialTarget {
  to: string;
  /** caller ID the target sees; absent: the caller's own */
  callerId?: string;
}

export interface CallReply {
  speech: Speech[];
  /** dial: connect the caller to `dial`; Twilio reports the outcome to the dial action webhook */
  next: "listen" | "hangup" | "dial";
  dial?: DialTarget;
  /** the number of turns taken so far; names the "caller said nothing" callback uniquely */
  turns: number;
}

export const PHRASES = {
  reprompt: "Sorry, I didn't catch that. Could you say it again?",
  apology: "Sorry, I'm having trouble right now. Could you say that again?",
  /** stream mode, after one failed turn (in the number's own voice) */
  tryAgain: "Sorry, I had trouble with that. Could you say it again?",
  goodbyeSilence: "I haven't heard anything for a while, so I'll hang up now. Goodbye!",
  goodbyeErrors: "Sorry, we're having technical difficulties. Please call again later. Goodbye!",
  goodbyeDuration: "We've reached the time limit for this call. Thank you for calling. Goodbye!",
  unavailable: "Sorry, we can't take your call right now. Please try again later.",
} as const;

export const saying = (text: string): Speech => ({ text, audioId: null });
