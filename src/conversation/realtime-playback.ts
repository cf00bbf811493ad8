import { type Base64Mulaw, mulawLength } from "../audio/mulaw-audio.ts";
import { LINE_RATE } from "../audio/telephony.ts";
import type { OutboundAudio } from "./engine.ts";

/**
 * The model's audio on its way to the caller, for the realtime engine: each assistant item's
 * μ-law deltas passed on as the base64 text they arrived in (the caller hears exactly what the
 * model said, and nothing is decoded or re-encoded on the way), a mark after each delta, and
 * from the marks Twilio echoes, how many bytes of each item the caller has heard: what a
 * barge-in truncates the item at.
 */

const BYTES_PER_MS = LINE_RATE / 1000;

/** One assistant audio item as it reaches the caller; `owner` is the engine's (its turn, or null). */
export interface PlayedItem<Owner> {
  itemId: string;
  owner: Owner;
  bytesSent: number;
  heardBytes: number;
  /** the model's transcript of the item, as far as it has come */
  transcript: string;
  /** all its audio has been sent (the end mark is out) */
  allSent: boolean;
  /** cut by a barge-in: later deltas are dropped */
  cut: boolean;
}

interface Mark<Owner> {
  name: string;
  item: PlayedItem<Owner>;
  /** bytes of the item played once this mark comes back */
  bytes: number;
  end: boolean;
}

export class RealtimePlayback<Owner> {
  private readonly send: (out: OutboundAudio) => void;
  /** each delta sent, with the item it belongs to */
  private readonly sentAudio: (item: PlayedItem<Owner>) => void;
  private readonly items = new Map<string, PlayedItem<Owner>>();
  private current: PlayedItem<Owner> | null = null;
  private readonly marks: Mark<Owner>[] = [];
  private marksSent = 0;

  constructor(send: (out: OutboundAudio) => void, sentAudio: (item: PlayedItem<Owner>) => void) {
    this.send = send;
    this.sentAudio = sentAudio;
  }

  get(itemId: string): PlayedItem<Owner> | undefined {
    return this.items.get(itemId);
  }

  find(owner: Owner): PlayedItem<Owner> | undefined {
    return [...this.items.values()].find((i) => i.owner === owner);
  }

  /** A new assistant item: the audio that follows is its. */
  added(itemId: string, owner: Owner): void {
    const item: PlayedItem<Owner> = {
      itemId,
      owner,
      bytesSent: 0,
      heardBytes: 0,
      transcript: "",
      allSent: false,
      cut: false,
    };
    this.items.set(itemId, item);
    this.current = item;
  }

  /** One audio delta of an item: out now as it came, then a mark. Returns the item (undefined: dropped or empty). */
  delta(itemId: string, audio: Base64Mulaw): PlayedItem<Owner> | undefined {
    const item = this.items.get(itemId);
    if (!item || item.cut) return undefined;
    const bytes = mulawLength(audio);
    if (bytes === 0) return undefined;
    this.send({ kind: "media", mulaw: audio });
    item.bytesSent += bytes;
    this.sentAudio(item);
    this.mark(item, false);
    return item;
  }

  /** The item's audio is complete: its end mark. */
  done(itemId: string): void {
    const item = this.items.get(itemId);
    if (!item || item.cut) return;
    item.allSent = true;
    this.mark(item, true);
  }

  /** Twilio echoed a mark; returns the items whose audio has now been heard to the end. */
  played(name: string): PlayedItem<Owner>[] {
    const index = this.marks.findIndex((m) => m.name === name);
    // Not outstanding: dropped by a clear (Twilio echoes those too), or not one of ours.
    if (index < 0) return [];
    const finished: PlayedItem<Owner>[] = [];
    for (const mark of this.marks.splice(0, index + 1)) {
      mark.item.heardBytes = Math.max(mark.item.heardBytes, mark.bytes);
      if (mark.end) finished.push(mark.item);
    }
    return finished;
  }

  /** The item the caller is hearing now, if any (sent and not all played, or still coming). */
  playing(): PlayedItem<Owner> | null {
    const item = this.current;
    if (!item || item.cut) return null;
    return !item.allSent || this.marks.some((m) => m.item === item) ? item : null;
  }

  /**
   * Barge-in: stop the item here. Twilio is told to `clear`; the marks that clear drops do not
   * count as heard. Returns the milliseconds of the item the caller heard.
   */
  cut(item: PlayedItem<Owner>): number {
    item.cut = true;
    this.send({ kind: "clear" });
    this.marks.length = 0;
    return Math.floor(item.heardBytes / BYTES_PER_MS);
  }

  /** The call is over: nothing outstanding counts any more. */
  clear(): void {
    this.marks.length = 0;
  }

  private mark(item: PlayedItem<Owner>, end: boolean): void {
    const mark: Mark<Owner> = { name: `rt-${++this.marksSent}`, item, bytes: item.bytesSent, end };
    this.marks.push(mark);
    this.send({ kind: "mark", name: mark.name });
  }
}

/** The words of the item's transcript in proportion to the audio heard (the API gives no word timings). */
export function heardPart(item: PlayedItem<unknown>): string {
  const words = item.transcript.trim().split(/\s+/).filter(Boolean);
  if (item.bytesSent === 0 || words.length === 0) return "";
  const share = Math.min(1, item.heardBytes / item.bytesSent);
  return words.slice(0, Math.round(words.length * share)).join(" ");
}
