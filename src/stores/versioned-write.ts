import type { E164 } from "../config/phone-number.ts";
import type { PhoneSettings } from "../config/schema.ts";

/**
 * The one atomic MongoDB write behind `put`, for every store that speaks MongoDB (the driver
 * or the Data API), so both keep the same rules:
 * - no expectedVersion: upsert on phone_number; $set the settings and updated_at,
 *   $setOnInsert created_at (so it never changes), $inc version (1 on insert).
 * - expectedVersion > 0: no upsert, filter also on that version; matching nothing means the
 *   document changed or is gone: a conflict that wrote nothing.
 * - expectedVersion 0 ("must not exist yet"): an upsert whose update is only $setOnInsert, so
 *   an existing document matches and is left untouched, which is the conflict. This holds even
 *   without the unique index; with it, two racing creates are a duplicate-key error (a conflict).
 */
export interface VersionedWrite {
  filter: Record<string, unknown>;
  update: Record<string, Record<string, unknown>>;
  upsert: boolean;
}

export function versionedWrite(
  phone: E164,
  settings: PhoneSettings,
  now: Date,
  expectedVersion: number | undefined,
): VersionedWrite {
  if (expectedVersion === 0) {
    return {
      filter: { phone_number: phone },
      update: { $setOnInsert: { ...settings, created_at: now, updated_at: now, version: 1 } },
      upsert: true,
    };
  }
  return {
    filter:
      expectedVersion === undefined
        ? { phone_number: phone }
        : { phone_number: phone, version: expectedVersion },
    update: {
      $set: { ...settings, updated_at: now },
      $setOnInsert: { created_at: now },
      $inc: { version: 1 },
    },
    upsert: expectedVersion === undefined,
  };
}
