import { DurableObject } from "cloudflare:workers";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { type ConfigStore, type PutOptions, StoreError } from "./store.ts";

/**
 * The default store: one SQLite-backed Durable Object holding every number's document.
 * No database or account needed; persists across `wrangler dev` restarts (.wrangler/state)
 * and works unchanged when deployed. A DO runs one request at a time, so each method's
 * read-modify-write below is atomic without further locking.
 */

type PutResult =
  | { ok: true; config: PhoneConfig; created: boolean }
  | { ok: false; conflict: { expected: number; actual: number | null } };

interface Row extends Record<string, SqlStorageValue> {
  phone_number: string;
  settings: string;
  created_at: string;
  updated_at: string;
  version: number;
}

function fromRow(row: Row): PhoneConfig {
  return {
    phone_number: row.phone_number,
    ...(JSON.parse(row.settings) as PhoneSettings),
    created_at: row.created_at,
    updated_at: row.updated_at,
    version: row.version,
  };
}

export class EmbeddedConfigStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS phone_configs (
        phone_number TEXT PRIMARY KEY,
        is_active INTEGER NOT NULL,
        settings TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
      )`);
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS phone_configs_is_active ON phone_configs (is_active)");
    });
  }

  private row(phone: string): Row | undefined {
    return this.ctx.storage.sql
      .exec<Row>("SELECT * FROM phone_configs WHERE phone_number = ?", phone)
      .toArray()[0];
  }

  async get(phone: string): Promise<PhoneConfig | null> {
    const row = this.row(phone);
    return row ? fromRow(row) : null;
  }

  async list(includeInactive: boolean): Promise<PhoneConfig[]> {
    const where = includeInactive ? "" : "WHERE is_active = 1";
    return this.ctx.storage.sql
      .exec<Row>(`SELECT * FROM phone_configs ${where} ORDER BY phone_number`)
      .toArray()
      .map(fromRow);
  }

  async put(
    phone: string,
    settings: PhoneSettings,
    nowIso: string,
    expectedVersion?: number,
  ): Promise<PutResult> {
    const existing = this.row(phone);
    const actual = existing?.version ?? null;
    if (expectedVersion !== undefined && (actual ?? 0) !== expectedVersion) {
      return { ok: false, conflict: { expected: expectedVersion, actual } };
    }
    const version = (actual ?? 0) + 1;
    const createdAt = existing?.created_at ?? nowIso;
    this.ctx.storage.sql.exec(
      `INSERT INTO phone_configs (phone_number, is_active, settings, created_at, updated_at, version)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (phone_number) DO UPDATE SET
         is_active = excluded.is_active, settings = excluded.settings,
         updated_at = excluded.updated_at, version = excluded.version`,
      phone,
      settings.is_active ? 1 : 0,
      JSON.stringify(settings),
      createdAt,
      nowIso,
      version,
    );
    return {
      ok: true,
      created: !existing,
      config: { phone_number: phone, ...settings, created_at: createdAt, updated_at: nowIso, version },
    };
  }

  async deactivate(phone: string, nowIso: string): Promise<PhoneConfig | null> {
    const existing = this.row(phone);
    if (!existing) return null;
    const settings = { ...(JSON.parse(existing.settings) as PhoneSettings), is_active: false };
    this.ctx.storage.sql.exec(
      "UPDATE phone_configs SET is_active = 0, settings = ?, updated_at = ?, version = version + 1 WHERE phone_number = ?",
      JSON.stringify(settings),
      nowIso,
      phone,
    );
    return fromRow(this.row(phone) as Row);
  }

  async remove(phone: string): Promise<boolean> {
    return (
      this.ctx.storage.sql.exec("DELETE FROM phone_configs WHERE phone_number = ?", phone).rowsWritten > 0
    );
  }

  async count(): Promise<number> {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM phone_configs").one().n;
  }
}

/** The ConfigStore face of the embedded Durable Object (one instance holds every number). */
export class EmbeddedStore implements ConfigStore {
  readonly backend = "embedded" as const;
  private readonly stub: DurableObjectStub<EmbeddedConfigStore>;

  constructor(namespace: DurableObjectNamespace<EmbeddedConfigStore>, instanceName = "phone-configs") {
    this.stub = namespace.get(namespace.idFromName(instanceName));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw new StoreError("unavailable", `embedded store ${what} failed`, { cause });
    }
  }

  get(phone: E164) {
    return this.call("get", () => this.stub.get(phone));
  }

  list(filter: { includeInactive: boolean }) {
    return this.call("list", () => this.stub.list(filter.includeInactive));
  }

  async put(phone: E164, settings: PhoneSettings, options: PutOptions) {
    const result: PutResult = await this.call("put", async () => {
      const r = await this.stub.put(phone, settings, options.now.toISOString(), options.expectedVersion);
      return r as PutResult;
    });
    if (!result.ok) {
      throw new StoreError(
        "conflict",
        `${phone} changed while it was being updated (expected version ${result.conflict.expected}, found ${result.conflict.actual ?? "none"})`,
      );
    }
    return { config: result.config, created: result.created };
  }

  deactivate(phone: E164, now: Date) {
    return this.call("deactivate", () => this.stub.deactivate(phone, now.toISOString()));
  }

  remove(phone: E164) {
    return this.call("remove", () => this.stub.remove(phone));
  }

  async ping() {
    await this.call("ping", () => this.stub.count());
  }

  async setup() {
    const n = await this.call("setup", () => this.stub.count());
    return [
      `embedded store: nothing to do (SQLite table and is_active index are created on first use; ${n} documents)`,
    ];
  }
}
