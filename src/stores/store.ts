import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import type { ConfigPage, ConfigQuery } from "./config-query.ts";
import type { ChangeInfo, Revision, RevisionPage, RevisionQuery } from "./revision.ts";

export type { ChangeInfo, ConfigPage, ConfigQuery, Revision, RevisionPage, RevisionQuery };

/** A user template as stored: partial settings under a name (src/config/templates.ts validates them). */
export interface StoredTemplate {
  name: string;
  description: string;
  settings: Partial<PhoneSettings>;
  /** ISO 8601 */
  updated_at: string;
}

export type StoreBackend = "embedded" | "data-api" | "mongodb";

export interface PutOptions {
  /** The write's timestamp: `updated_at` always, `created_at` only when the document is new. */
  now: Date;
  /**
   * Optimistic concurrency: write only if the stored document still has this version
   * (a read-merge-write must not undo a concurrent write). Omitted: create or replace.
   * A mismatch is `StoreError("conflict")`.
   */
  expectedVersion?: number;
  /** Recorded in the revision; omitted, the actor is "system". */
  change?: ChangeInfo;
  /**
   * One id for every attempt of one logical write (an Idempotency-Key), so a retry can finish
   * an attempt that stopped between its revision and its document (src/stores/mongo-revisions.ts).
   */
  writeId?: string;
}

/** Default of CONFIG_HISTORY_LIMIT: revisions kept per number. */
export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * Where phone configs live. Every backend passes the same conformance suite
 * (test/integration/store-conformance.ts). Methods are called by the admin routes and,
 * for `get`, by the resolver on a cache miss.
 *
 * History: every write (put, deactivate) stores an immutable revision of the whole document
 * (src/stores/revision.ts) before the document itself changes, so no reader sees a version
 * without its revision and no two writers produce the same version. Each backend keeps the
 * newest `historyLimit` revisions per number (CONFIG_HISTORY_LIMIT) and drops the older ones.
 */
export interface ConfigStore {
  readonly backend: StoreBackend;
  /** The document for this number, active or not; null when there is none. */
  get(phone: E164): Promise<PhoneConfig | null>;
  /** All documents, ordered by phone_number; inactive ones only when asked. */
  list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]>;
  /**
   * One page of documents matching a search and filters, with how many match in all, filtered,
   * sorted, skipped and counted by the backend itself (src/stores/config-query.ts). Throws a
   * RangeError for an offset or limit out of bounds.
   */
  query(query: ConfigQuery): Promise<ConfigPage>;
  /**
   * Create or update in one atomic write; `version` +1; `created_at` set on insert only.
   * Settings equal to the stored ones write nothing: the stored document, unchanged.
   */
  put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }>;
  /**
   * Soft delete (is_active=false, version +1, a revision); null when there is no such document;
   * an already inactive one is returned unchanged, with no new version.
   */
  deactivate(phone: E164, now: Date, change?: ChangeInfo): Promise<PhoneConfig | null>;
  /** Hard delete of the document and all its revisions; false when there was nothing to delete. */
  remove(phone: E164): Promise<boolean>;
  /** The number's kept revisions, newest first (empty when it has none). */
  revisions(phone: E164, query: RevisionQuery): Promise<RevisionPage>;
  /** One revision; null when the number has no such version (never existed, or dropped by retention). */
  revision(phone: E164, version: number): Promise<Revision | null>;
  /** User templates, ordered by name. */
  templates(): Promise<StoredTemplate[]>;
  template(name: string): Promise<StoredTemplate | null>;
  /** Create (`mustBeNew`: a conflict when the name is taken) or replace; `created` says which. */
  saveTemplate(template: StoredTemplate, options: { mustBeNew: boolean }): Promise<{ created: boolean }>;
  /** false when there was no such template */
  removeTemplate(name: string): Promise<boolean>;
  /** Resolves when the backend answers; rejects with a StoreError otherwise. */
  ping(): Promise<void>;
  /** Idempotently prepares the backend (indexes); returns a line per thing done or found. */
  setup(): Promise<string[]>;
}

export type StoreErrorKind =
  | "unavailable"
  | "timeout"
  | "conflict"
  | "auth"
  | "bad_response"
  | "misconfigured";

/** What every backend's failures become, so routes and the resolver handle one type. */
export class StoreError extends Error {
  readonly kind: StoreErrorKind;

  constructor(kind: StoreErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "StoreError";
    this.kind = kind;
  }
}
