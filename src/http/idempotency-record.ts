import { DurableObject } from "cloudflare:workers";

/**
 * One Idempotency-Key of one admin actor: a Durable Object named `<actor>\n<key>`, so two
 * requests with the same key are serialised in one place. It remembers which request the key
 * was first used for, what that request was about to change, and its answer, for 24 hours.
 */

/** How long a key's first answer is kept (ms). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * How long a request may hold its key before a retry may take it over (ms): longer than any
 * admin request runs, so only a crashed one is taken over.
 */
export const IDEMPOTENCY_LEASE_MS = 30_000;

/** What a write was about to change, recorded before it was sent to the store. */
export interface WriteTarget {
  phone: string;
  /** the document's version before the write; 0 when there was none */
  baseVersion: number;
}

export interface StoredAnswer {
  status: number;
  contentType: string;
  body: string;
}

interface Entry {
  fingerprint: string;
  state: "running" | "unknown" | "done";
  /** when the running attempt started (ms since the epoch) */
  startedAt: number;
  /** first use + IDEMPOTENCY_TTL_MS (ms since the epoch) */
  expiresAt: number;
  target: WriteTarget | null;
  answer: StoredAnswer | null;
}

/**
 * - new: first use; answer it, then `finish`, `unknown` or `release`
 * - replay: answered before; send `answer` again
 * - retry: the first attempt's outcome is unknown (or it crashed); `target` is what it was
 *   about to change (null if it never got that far), so the route can tell whether it applied
 * - mismatch: the key was used for another request
 * - running: another request with this key is being answered right now
 */
export type BeginResult =
  | { kind: "new" }
  | { kind: "replay"; answer: StoredAnswer }
  | { kind: "retry"; target: WriteTarget | null }
  | { kind: "mismatch" }
  | { kind: "running" };

export class IdempotencyRecord extends DurableObject<Env> {
  private entry: Entry | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ensureTable();
      const row = this.ctx.storage.sql
        .exec<{ data: string }>("SELECT data FROM entry WHERE id = 1")
        .toArray()[0];
      this.entry = row ? (JSON.parse(row.data) as Entry) : null;
    });
  }

  /** Also after `release()`'s deleteAll(), when the key is used again. */
  private ensureTable(): void {
    this.ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, data TEXT NOT NULL)",
    );
  }

  private save(entry: Entry): void {
    this.ensureTable();
    this.entry = entry;
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO entry (id, data) VALUES (1, ?)", JSON.stringify(entry));
  }

  /** A request with this key arrives; `fingerprint` identifies its method, path and body. */
  async begin(fingerprint: string, now: number = Date.now()): Promise<BeginResult> {
    const entry = this.entry && this.entry.expiresAt > now ? this.entry : null;
    if (!entry) {
      this.save({
        fingerprint,
        state: "running",
        startedAt: now,
        expiresAt: now + IDEMPOTENCY_TTL_MS,
        target: null,
        answer: null,
      });
      await this.ctx.storage.setAlarm(now + IDEMPOTENCY_TTL_MS);
      return { kind: "new" };
    }
    if (entry.fingerprint !== fingerprint) return { kind: "mismatch" };
    if (entry.state === "done" && entry.answer) return { kind: "replay", answer: entry.answer };
    if (entry.state === "running" && now - entry.startedAt < IDEMPOTENCY_LEASE_MS) return { kind: "running" };
    this.save({ ...entry, state: "running", startedAt: now });
    return { kind: "retry", target: entry.target };
  }

  /** The write is about to be sent. A retry keeps the first attempt's target: that is what may have applied. */
  async target(target: WriteTarget): Promise<void> {
    if (this.entry && !this.entry.target) this.save({ ...this.entry, target });
  }

  /** The answer is definitive: every later request with this key and fingerprint gets it again. */
  async finish(answer: StoredAnswer): Promise<void> {
    if (this.entry) this.save({ ...this.entry, state: "done", answer });
  }

  /** The write may or may not have been applied: a retry must find out before writing. */
  async unknown(): Promise<void> {
    if (this.entry)
      this.save({ ...this.entry, state: this.entry.target ? "unknown" : "running", startedAt: 0 });
  }

  /** Nothing was written and nothing worth replaying was answered: the key is free again. */
  async release(): Promise<void> {
    this.entry = null;
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    if (this.entry && this.entry.expiresAt > Date.now()) {
      await this.ctx.storage.setAlarm(this.entry.expiresAt);
      return;
    }
    await this.release();
  }
}
