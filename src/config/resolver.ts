import type { Settings } from "../env.ts";
import { errorFields, type LogFields, type Logger, log } from "../log.ts";
import type { ConfigStore } from "../stores/store.ts";
import { StoreError } from "../stores/store.ts";
import {
  type CacheEntry,
  freshKey,
  isFresh,
  kvTtlSeconds,
  lastGoodKey,
  MemoryCache,
  parseEntry,
} from "./cache-policy.ts";
import { type CallConfig, callConfigFrom, defaultCallConfig } from "./defaults.ts";
import type { E164 } from "./phone-number.ts";
import type { PhoneConfig } from "./schema.ts";

/** Where a resolved config came from: a cache layer, the store, a stale copy, or nowhere (defaults). */
export type ConfigSource = "memory" | "kv" | "store" | "stale" | "default";

export interface ResolvedConfig {
  config: CallConfig;
  source: ConfigSource;
}

export interface ResolverDeps {
  store: ConfigStore;
  kv: KVNamespace;
  settings: Settings;
  memory?: MemoryCache;
  now?: () => number;
  /** Lets cache fills finish after the response (ExecutionContext.waitUntil). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** the request's logger (default: the unbound one) */
  log?: Logger;
}

// Per isolate on purpose: this layer is what makes a warm call cost no I/O at all.
const isolateMemory = new MemoryCache();

/**
 * "What does this number sound like?": memory → KV → store → defaults. Never throws: a
 * store that is down or slow gives the last good config seen for the number, or defaults.
 */
export class ConfigResolver {
  private readonly memory: MemoryCache;
  private readonly now: () => number;

  private readonly deps: ResolverDeps;
  private readonly log: Logger;

  constructor(deps: ResolverDeps) {
    this.deps = deps;
    this.log = deps.log ?? log;
    this.memory = deps.memory ?? isolateMemory;
    this.now = deps.now ?? Date.now;
  }

  /**
   * The number's config and where it came from. `logFields` (e.g. `{ call_sid }`) go on the line
   * a store failure logs. A resolution that works logs nothing here: the caller's own line
   * carries its source and version (`call_routed` at answer, `call_started` in the session), so
   * an incoming call writes one line, not two.
   */
  async resolve(phone: E164, logFields: LogFields = {}): Promise<ResolvedConfig> {
    const { settings } = this.deps;
    const now = this.now();
    const inMemory = this.memory.get(phone);
    if (inMemory && isFresh(inMemory, now, settings.CONFIG_MEMORY_TTL_SECONDS)) {
      return this.answer(inMemory.doc, phone, "memory");
    }

    const inKv = await this.readKv(freshKey(phone));
    if (inKv && isFresh(inKv, now, settings.CONFIG_CACHE_TTL_SECONDS)) {
      // The memory copy counts from now: KV already vouched for the document's freshness.
      this.memory.set(phone, { doc: inKv.doc, fetchedAt: now });
      return this.answer(inKv.doc, phone, "kv");
    }

    try {
      const doc = await this.storeGet(phone);
      await this.remember(phone, doc);
      return this.answer(doc, phone, "store");
    } catch (err) {
      this.log.warn("config_store_failed", { ...logFields, phone_number: phone, ...errorFields(err) });
      const stale = inMemory ?? inKv ?? (await this.readKv(lastGoodKey(phone)));
      if (stale) return this.answer(stale.doc, phone, "stale");
      return { config: defaultCallConfig(settings, phone), source: "default" };
    }
  }

  /**
   * The number's config at `version`, for a call answered with it whose session starts later:
   * the current config when it still has that version (usually from memory, no I/O), else that
   * version's revision from the store (within CONFIG_STORE_TIMEOUT_MS). When the version cannot
   * be had (dropped by retention, or the store failing), the current config with `exact: false`,
   * from the same resolution: the caller decides whether it will do.
   */
  async resolveVersion(
    phone: E164,
    version: number,
    logFields: LogFields = {},
  ): Promise<ResolvedConfig & { exact: boolean }> {
    const current = await this.resolve(phone, logFields);
    if (!current.config.uses_defaults && current.config.version === version)
      return { ...current, exact: true };
    try {
      const revision = await this.withStoreTimeout(this.deps.store.revision(phone, version));
      if (revision) {
        return {
          config: callConfigFrom(revision.config, this.deps.settings, phone),
          source: "store",
          exact: true,
        };
      }
    } catch (err) {
      this.log.warn("config_store_failed", {
        ...logFields,
        phone_number: phone,
        version,
        ...errorFields(err),
      });
    }
    return { ...current, exact: false };
  }

  /**
   * After an admin write: the new document (null once hard-deleted) goes to KV and to this
   * isolate's memory, so the next call here sees it at once and other isolates within
   * CONFIG_MEMORY_TTL_SECONDS plus KV's propagation.
   */
  async publish(phone: E164, doc: PhoneConfig | null): Promise<void> {
    const entry: CacheEntry = { doc, fetchedAt: this.now() };
    this.memory.set(phone, entry);
    await this.writeKv(phone, entry);
  }

  private answer(doc: PhoneConfig | null, phone: E164, source: ConfigSource): ResolvedConfig {
    return { config: callConfigFrom(doc, this.deps.settings, phone), source };
  }

  private async remember(phone: E164, doc: PhoneConfig | null): Promise<void> {
    const entry: CacheEntry = { doc, fetchedAt: this.now() };
    this.memory.set(phone, entry);
    const write = this.writeKv(phone, entry);
    // Off the call's critical path when the runtime lets the write outlive the response.
    if (this.deps.waitUntil) this.deps.waitUntil(write);
    else await write;
  }

  private storeGet(phone: E164): Promise<PhoneConfig | null> {
    return this.withStoreTimeout(this.deps.store.get(phone));
  }

  /** `read`, or StoreError("timeout") after CONFIG_STORE_TIMEOUT_MS. */
  private async withStoreTimeout<T>(read: Promise<T>): Promise<T> {
    const timeoutMs = this.deps.settings.CONFIG_STORE_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreError("timeout", `config store did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([read, timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** A KV failure is a cache miss, not a failed call. */
  private async readKv(key: string): Promise<CacheEntry | null> {
    try {
      return parseEntry(await this.deps.kv.get(key));
    } catch (err) {
      this.log.warn("config_cache_read_failed", { key, ...errorFields(err) });
      return null;
    }
  }

  private async writeKv(phone: E164, entry: CacheEntry): Promise<void> {
    const value = JSON.stringify(entry);
    try {
      await Promise.all([
        this.deps.kv.put(freshKey(phone), value, {
          expirationTtl: kvTtlSeconds(this.deps.settings.CONFIG_CACHE_TTL_SECONDS),
        }),
        this.deps.kv.put(lastGoodKey(phone), value),
      ]);
    } catch (err) {
      this.log.warn("config_cache_write_failed", { phone_number: phone, ...errorFields(err) });
    }
  }
}
