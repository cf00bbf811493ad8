import type { PhoneConfig } from "./schema.ts";

/**
 * Pure rules of the config cache: what a cached entry looks like and whether it is still
 * fresh. A null document is cached too, so unknown numbers don't reach the store every call.
 */
export interface CacheEntry {
  doc: PhoneConfig | null;
  /** epoch ms when the store answered */
  fetchedAt: number;
}

/** Workers KV refuses an expirationTtl under 60 s. */
export const KV_MIN_TTL_SECONDS = 60;

export function kvTtlSeconds(configuredSeconds: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, Math.floor(configuredSeconds));
}

export function isFresh(entry: CacheEntry, now: number, ttlSeconds: number): boolean {
  return now - entry.fetchedAt < ttlSeconds * 1000;
}

export const freshKey = (phone: string) => `phone-config:v1:${phone}`;
/** Kept without expiry: the last answer the store gave, served only while the store is down. */
export const lastGoodKey = (phone: string) => `phone-config:last-good:v1:${phone}`;

export function parseEntry(raw: string | null): CacheEntry | null {
  if (raw === null) return null;
  const value = JSON.parse(raw) as Partial<CacheEntry>;
  if (
    typeof value !== "object" ||
    value === null ||
    typeof value.fetchedAt !== "number" ||
    !("doc" in value)
  ) {
    return null;
  }
  return { doc: value.doc ?? null, fetchedAt: value.fetchedAt };
}

/**
 * The per-isolate layer: a bounded map. Entries outlive their freshness on purpose: an
 * expired one is still the best stale answer when the store is down.
 */
export class MemoryCache {
  private readonly entries = new Map<string, CacheEntry>();

  private readonly maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.maxEntries = maxEntries;
  }

  get(phone: string): CacheEntry | undefined {
    return this.entries.get(phone);
  }

  set(phone: string, entry: CacheEntry): void {
    this.entries.delete(phone);
    this.entries.set(phone, entry);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
