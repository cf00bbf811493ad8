import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";

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
}

/**
 * Where phone configs live. Every backend passes the same conformance suite
 * (test/integration/store-conformance.ts). Methods are called by the admin routes and,
 * for `get`, by the resolver on a cache miss.
 */
export interface ConfigStore {
  readonly backend: StoreBackend;
  /** The document for this number, active or not; null when there is none. */
  get(phone: E164): Promise<PhoneConfig | null>;
  /** All documents, ordered by phone_number; inactive ones only when asked. */
  list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]>;
  /** Create or update in one atomic write; `version` +1; `created_at` set on insert only. */
  put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }>;
  /** Soft delete (is_active=false, version +1); null when there is no such document. */
  deactivate(phone: E164, now: Date): Promise<PhoneConfig | null>;
  /** Hard delete; false when there was nothing to delete. */
  remove(phone: E164): Promise<boolean>;
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
