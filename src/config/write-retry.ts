import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig } from "../config/schema.ts";
import { AppError } from "../errors.ts";
import type { IdempotentWrite } from "../http/idempotency.ts";

/**
 * The config writes' side of Idempotency-Key (src/http/idempotency.ts): a write under a key is
 * conditional on the version it read, and records that version before it is sent. A retry of
 * an attempt whose outcome was unknown then compares: the document still at that version means
 * the first attempt never applied (and, being conditional, never will), so the retry writes; a
 * newer document holding the write's changes means it did apply, so the retry answers from it
 * without writing again.
 */

/** Before an admin write: `write` it, or the first attempt already `applied` it. */
export type WriteDecision = "write" | "applied";

/**
 * Decides whether to send the write, given the stored document now (`existing`) and whether it
 * already holds this write's changes (`holdsChanges`). Throws CONFLICT when it moved on without them.
 */
export async function decideWrite(
  idempotency: IdempotentWrite | undefined,
  phone: E164,
  existing: PhoneConfig | null,
  holdsChanges: (current: PhoneConfig | null) => boolean,
): Promise<WriteDecision> {
  if (!idempotency) return "write";
  const version = existing?.version ?? 0;
  const previous = idempotency.previous;
  if (previous && previous.phone === phone && previous.baseVersion !== version) {
    if (holdsChanges(existing)) return "applied";
    throw new AppError(
      "CONFLICT",
      `${phone} changed since this request's first attempt (version ${previous.baseVersion}, now ${version}) and does not hold its changes; GET it, then send a new request with a new Idempotency-Key`,
    );
  }
  await idempotency.target({ phone, baseVersion: version });
  return "write";
}

/**
 * The version a write under an Idempotency-Key is conditional on: the one it read, 0 for "must
 * not exist yet". A document from before versions existed (version 0) has nothing to compare.
 */
export function expectedVersionOf(existing: PhoneConfig | null): number | undefined {
  if (!existing) return 0;
  return existing.version > 0 ? existing.version : undefined;
}

/** Whether `current` holds every one of `fields` with the same value. */
export function holds(current: PhoneConfig | null, fields: Partial<PhoneConfig>): boolean {
  if (!current) return false;
  return Object.entries(fields).every(
    ([k, v]) => JSON.stringify(current[k as keyof PhoneConfig]) === JSON.stringify(v),
  );
}
