import { isDeepStrictEqual } from "node:util";
import { type PhoneConfig, type PhoneSettings, SETTINGS_KEYS } from "../config/schema.ts";

/**
 * Revisions: every write to a number stores the whole document as written, immutable, under
 * its version. Which fields count as settings is derived from the document (everything but the
 * store's metadata), so a setting added to the schema is versioned and diffed with no change here.
 */

/** Who made a change and why: the admin key's name, the X-Change-Reason header, the template used. */
export interface ChangeInfo {
  actor: string;
  reason?: string | undefined;
  template?: string | undefined;
}

/** Writes by code rather than a person (seeding, benchmarks) are recorded as this actor. */
export const SYSTEM_ACTOR = "system";

export interface Revision {
  phone_number: string;
  version: number;
  /** the whole document as written, metadata included */
  config: PhoneConfig;
  /** settings that differ from the previous version (every setting for a first version) */
  changed_fields: string[];
  /** ISO 8601, equal to config.updated_at */
  written_at: string;
  actor: string;
  reason: string | null;
  template: string | null;
}

/** A revision as the versions list shows it: no document, but whether it was active. */
export interface RevisionSummary {
  version: number;
  written_at: string;
  actor: string;
  reason: string | null;
  changed_fields: string[];
  is_active: boolean;
}

/** One page of a number's history, newest first; `total` counts every kept revision. */
export interface RevisionPage {
  total: number;
  versions: RevisionSummary[];
}

export interface RevisionQuery {
  /** at most this many, newest first */
  limit: number;
  /** only versions below this one (the previous page's last version) */
  before?: number | undefined;
}

/** Store bookkeeping, not settings: never diffed, never taken from a template or an import. */
export const METADATA_FIELDS = ["phone_number", "created_at", "updated_at", "version"] as const;
const METADATA = new Set<string>(METADATA_FIELDS);

/** A document's settings: every field but the metadata. */
export function settingsOf(config: PhoneConfig): PhoneSettings {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !METADATA.has(k))) as PhoneSettings;
}

/** One setting's change between two documents. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

const SCHEMA_ORDER = new Map<string, number>(SETTINGS_KEYS.map((k, i) => [k, i]));
const schemaOrder = (field: string) => SCHEMA_ORDER.get(field) ?? SCHEMA_ORDER.size;

/**
 * The settings that differ, in the schema's field order (whatever order the documents hold
 * them in); a missing field reads as null. Values compare deeply, so nested settings work.
 */
export function diffSettings(from: PhoneSettings | null, to: PhoneSettings): FieldChange[] {
  const before = (from ?? {}) as Record<string, unknown>;
  const after = to as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(after), ...Object.keys(before)])].sort(
    (a, b) => schemaOrder(a) - schemaOrder(b),
  );
  return fields
    .filter((field) => from === null || !isDeepStrictEqual(before[field], after[field]))
    .map((field) => ({ field, from: before[field] ?? null, to: after[field] ?? null }));
}

/** Whether writing `next` over `current` would change any setting. */
export function sameSettings(current: PhoneConfig, next: PhoneSettings): boolean {
  return diffSettings(settingsOf(current), next).length === 0;
}

/** The revision for `next`, written over `previous` (null when the number is new). */
export function revisionOf(previous: PhoneConfig | null, next: PhoneConfig, change: ChangeInfo): Revision {
  return {
    phone_number: next.phone_number,
    version: next.version,
    config: next,
    changed_fields: diffSettings(previous && settingsOf(previous), settingsOf(next)).map((c) => c.field),
    written_at: next.updated_at,
    actor: change.actor,
    reason: change.reason ?? null,
    template: change.template ?? null,
  };
}

export function summaryOf(revision: Revision): RevisionSummary {
  return {
    version: revision.version,
    written_at: revision.written_at,
    actor: revision.actor,
    reason: revision.reason,
    changed_fields: revision.changed_fields,
    is_active: revision.config.is_active,
  };
}
