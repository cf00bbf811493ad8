import type { MulawAudio } from "../audio/mulaw-audio.ts";
import type { Logger } from "../log.ts";
import type { ConversationEngine } from "./engine.ts";

/**
 * One engine that hands the call to another when it fails: the realtime engine first, the
 * stream pipeline when the Realtime socket is refused, does not open in time, refuses the
 * session, does not start the greeting in time, or drops mid-call. The caller's line stays the
 * same; the fallback starts from the turns stored so far, and greets the caller only if the
 * first engine failed before its greeting could be heard.
 */

export interface FallbackBuild<Reason extends string> {
  /** The first engine; it calls `failed` once, after reporting its turns, if it cannot go on. */
  primary(failed: (reason: Reason) => void): ConversationEngine;
  /** Built when the first one fails, from the conversation as stored by then. */
  fallback(): ConversationEngine;
  /** Reasons after which the caller has not heard a greeting yet. */
  beforeGreeting: readonly Reason[];
  /** on the `engine_fallback` line: the call's fields and the two engines' names */
  /** the call's logger, with the stream's stream_sid */
  log: Logger;
}

export class FallbackEngine<Reason extends string> implements ConversationEngine {
  private readonly build: FallbackBuild<Reason>;
  private current: ConversationEngine;
  private switched = false;
  private greeted = false;
  private closed = false;

  constructor(build: FallbackBuild<Reason>) {
    this.build = build;
    this.current = build.primary((reason) => this.fallBack(reason));
  }

  async greet(): Promise<void> {
    this.greeted = true;
    await this.current.greet();
  }

  pushAudio(mulaw: MulawAudio): void {
    this.current.pushAudio(mulaw);
  }

  markPlayed(name: string): void {
    this.current.markPlayed(name);
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }

  async idle(): Promise<void> {
    let engine: ConversationEngine;
    do {
      engine = this.current;
      await engine.idle();
    } while (engine !== this.current);
  }

  private fallBack(reason: Reason): void {
    if (this.switched || this.closed) return;
    this.switched = true;
    this.build.log.warn("engine_fallback", { reason });
    this.current = this.build.fallback();
    if (this.greeted && this.build.beforeGreeting.includes(reason)) void this.current.greet();
  }
}
