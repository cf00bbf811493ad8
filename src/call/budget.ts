/**
 * Twilio waits 15 s for a webhook's answer and then plays "an application error has
 * occurred". Every step of a turn gets a slice of what is left, keeping back enough for the
 * steps after it, so even a turn where every provider hangs answers in time.
 */
const TWILIO_WEBHOOK_TIMEOUT_MS = 15_000;
/** What we allow ourselves of those 15 s (the rest is network and Twilio's own overhead). */
export const WEBHOOK_BUDGET_MS = TWILIO_WEBHOOK_TIMEOUT_MS - 3_000;

export class Budget {
  readonly deadline: number;
  private readonly now: () => number;

  constructor(deadline: number, now: () => number = Date.now) {
    this.deadline = deadline;
    this.now = now;
  }

  static fromNow(ms: number, now: () => number = Date.now): Budget {
    return new Budget(now() + ms, now);
  }

  remaining(): number {
    return Math.max(0, this.deadline - this.now());
  }

  /** Up to `maxMs`, leaving `reserveMs` for later steps; never less than `floorMs`. */
  sliceMs(maxMs: number, reserveMs: number, floorMs = 250): number {
    return Math.max(floorMs, Math.min(maxMs, this.remaining() - reserveMs));
  }

  signal(maxMs: number, reserveMs: number): AbortSignal {
    return AbortSignal.timeout(this.sliceMs(maxMs, reserveMs));
  }
}
