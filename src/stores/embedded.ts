import { DurableObject } from "cloudflare:workers";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import {
  assertPageBounds,
  type ConfigPage,
  type ConfigQuery,
  foldName,
  searchTerms,
} from "./config-query.ts";
import { lazyStub } from "./lazy-stub.ts";
import {
  type ChangeInfo,
  type Revision,
  type RevisionPage,
  type RevisionQuery,
  revisionOf,
  SYSTEM_ACTOR,
  sameSettings,
  summaryOf,
} from "./revision.ts";
import {
  type ConfigStore,
  DEFAULT_HISTORY_LIMIT,
  type PutOptions,
  type StoredTemplate,
  StoreError,
} from "./store.ts";

/**
 * The default store: one SQLite-backed Durable Object holding every number's document and its
 * revisions. No database or account needed; persists across `wrangler dev` restarts
 * (.wrangler/state) and works unchanged when deployed. A DO runs one request at a time and each
 * write below is one synchronous SQLite transaction (revision, document, retention), so no
 * reader sees a half-done write and versions never collide.
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

interface RevisionRow extends Record<string, SqlStorageValue> {
  phone_number: string;
  version: number;
  config: string;
  changed_fields: string;
  written_at: string;
  actor: string;
  reason: string | null;
  template: string | null;
}

interface TemplateRow extends Record<string, SqlStorageValue> {
  name: string;
  description: string;
  settings: string;
  updated_at: string;
}

function fromTemplateRow(row: TemplateRow): StoredTemplate {
  return {
    name: row.name,
    description: row.description,
    settings: JSON.parse(row.settings) as StoredTemplate["settings"],
    updated_at: row.updated_at,
  };
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

function fromRevisionRow(row: RevisionRow): Revision {
  return {
    phone_number: row.phone_number,
    version: row.version,
    config: JSON.parse(row.config) as PhoneConfig,
    changed_fields: JSON.parse(row.changed_fields) as string[],
    written_at: row.written_at,
    actor: row.actor,
    reason: row.reason,
    template: row.template,
  };
}

/** One write's inputs, as they cross the RPC boundary (dates as ISO strings). */
export interface EmbeddedWrite {
  nowIso: string;
  expectedVersion?: number | undefined;
  change: ChangeInfo;
  historyLimit: number;
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
      addSearchName(ctx.storage.sql);
      // The primary key is the unique (phone_number, version) of the MongoDB stores' history.
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS phone_config_versions (
        phone_number TEXT NOT NULL,
        version INTEGER NOT NULL,
        config TEXT NOT NULL,
        changed_fields TEXT NOT NULL,
        written_at TEXT NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT,
        template TEXT,
        PRIMARY KEY (phone_number, version)
      )`);
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS config_templates (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        settings TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`);
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

  async query(query: ConfigQuery): Promise<ConfigPage> {
    const sql = this.ctx.storage.sql;
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (query.active !== undefined) {
      where.push("is_active = ?");
      args.push(query.active ? 1 : 0);
    }
    if (query.mode !== undefined) {
      where.push("json_extract(settings, '$.conversation_mode') = ?");
      args.push(query.mode);
    }
    const terms = searchTerms(query.search);
    if (terms) {
      where.push(`(instr(search_name, ?) > 0${terms.digits ? " OR instr(phone_number, ?) > 0" : ""})`);
      args.push(terms.name, ...(terms.digits ? [terms.digits] : []));
    }
    const filter = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const total = sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM phone_configs ${filter}`, ...args)
      .one().n;
    const sort = query.sort ?? { field: "phone_number", direction: "asc" };
    const direction = sort.direction === "desc" ? "DESC" : "ASC";
    const order =
      sort.field === "phone_number"
        ? `phone_number ${direction}`
        : `${SORT_COLUMNS[sort.field]} ${direction}, phone_number ASC`;
    const configs = sql
      .exec<Row>(
        `SELECT * FROM phone_configs ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`,
        ...args,
        query.limit,
        query.offset,
      )
      .toArray()
      .map(fromRow);
    return { total, configs };
  }

  async put(phone: string, settings: PhoneSettings, write: EmbeddedWrite): Promise<PutResult> {
    return this.ctx.storage.transactionSync(() => {
      const existing = this.row(phone);
      const actual = existing?.version ?? null;
      if (write.expectedVersion !== undefined && (actual ?? 0) !== write.expectedVersion) {
        return { ok: false as const, conflict: { expected: write.expectedVersion, actual } };
      }
      const config = this.commit(existing ? fromRow(existing) : null, phone, settings, write);
      return { ok: true as const, created: !existing, config };
    });
  }

  async deactivate(phone: string, write: EmbeddedWrite): Promise<PhoneConfig | null> {
    return this.ctx.storage.transactionSync(() => {
      const existing = this.row(phone);
      if (!existing) return null;
      const previous = fromRow(existing);
      const { phone_number: _p, created_at: _c, updated_at: _u, version: _v, ...settings } = previous;
      return this.commit(previous, phone, { ...settings, is_active: false }, write);
    });
  }

  /**
   * Inside a transaction: the revision first, then the document, then retention. Settings that
   * are already current write nothing (no version): the stored document is the answer.
   */
  private commit(
    previous: PhoneConfig | null,
    phone: string,
    settings: PhoneSettings,
    write: EmbeddedWrite,
  ): PhoneConfig {
    if (previous && sameSettings(previous, settings)) return previous;
    const sql = this.ctx.storage.sql;
    const version = (previous?.version ?? 0) + 1;
    const config: PhoneConfig = {
      phone_number: phone,
      ...settings,
      created_at: previous?.created_at ?? write.nowIso,
      updated_at: write.nowIso,
      version,
    };
    insertRevision(sql, revisionOf(previous, config, write.change));
    writeConfigRow(sql, config, settings);
    sql.exec(
      "DELETE FROM phone_config_versions WHERE phone_number = ? AND version <= ?",
      phone,
      version - write.historyLimit,
    );
    return config;
  }

  async remove(phone: string): Promise<boolean> {
    return this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const removed = sql.exec("DELETE FROM phone_configs WHERE phone_number = ?", phone).rowsWritten > 0;
      sql.exec("DELETE FROM phone_config_versions WHERE phone_number = ?", phone);
      return removed;
    });
  }

  async revisions(phone: string, query: RevisionQuery): Promise<RevisionPage> {
    const sql = this.ctx.storage.sql;
    const total = sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM phone_config_versions WHERE phone_number = ?", phone)
      .one().n;
    const rows = sql
      .exec<RevisionRow>(
        `SELECT * FROM phone_config_versions WHERE phone_number = ? AND version < ?
         ORDER BY version DESC LIMIT ?`,
        phone,
        query.before ?? Number.MAX_SAFE_INTEGER,
        query.limit,
      )
      .toArray();
    return { total, versions: rows.map((row) => summaryOf(fromRevisionRow(row))) };
  }

  async revision(phone: string, version: number): Promise<Revision | null> {
    const row = this.ctx.storage.sql
      .exec<RevisionRow>(
        "SELECT * FROM phone_config_versions WHERE phone_number = ? AND version = ?",
        phone,
        version,
      )
      .toArray()[0];
    return row ? fromRevisionRow(row) : null;
  }

  async templates(): Promise<StoredTemplate[]> {
    return this.ctx.storage.sql
      .exec<TemplateRow>("SELECT * FROM config_templates ORDER BY name")
      .toArray()
      .map(fromTemplateRow);
  }

  async template(name: string): Promise<StoredTemplate | null> {
    const row = this.ctx.storage.sql
      .exec<TemplateRow>("SELECT * FROM config_templates WHERE name = ?", name)
      .toArray()[0];
    return row ? fromTemplateRow(row) : null;
  }

  /** created: true/false; null when `mustBeNew` and the name is taken. */
  async saveTemplate(template: StoredTemplate, mustBeNew: boolean): Promise<boolean | null> {
    const sql = this.ctx.storage.sql;
    const exists =
      sql.exec("SELECT 1 FROM config_templates WHERE name = ?", template.name).toArray().length > 0;
    if (exists && mustBeNew) return null;
    sql.exec(
      `INSERT INTO config_templates (name, description, settings, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description,
         settings = excluded.settings, updated_at = excluded.updated_at`,
      template.name,
      template.description,
      JSON.stringify(template.settings),
      template.updated_at,
    );
    return !exists;
  }

  async removeTemplate(name: string): Promise<boolean> {
    return this.ctx.storage.sql.exec("DELETE FROM config_templates WHERE name = ?", name).rowsWritten > 0;
  }

  async count(): Promise<number> {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM phone_configs").one().n;
  }
}

/** SQL for each sort field of a ConfigQuery (updated_at is ISO 8601 UTC: text order is time order). */
const SORT_COLUMNS = {
  display_name: "json_extract(settings, '$.display_name')",
  updated_at: "updated_at",
} as const;

/**
 * `search_name`, the folded display name searches compare with (in JavaScript: SQLite's lower()
 * folds ASCII only), came after the first release: added and filled once on an older table.
 */
function addSearchName(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('phone_configs')").toArray();
  if (columns.some((c) => c.name === "search_name")) return;
  sql.exec("ALTER TABLE phone_configs ADD COLUMN search_name TEXT NOT NULL DEFAULT ''");
  const rows = sql.exec<Row>("SELECT phone_number, settings FROM phone_configs").toArray();
  for (const row of rows) {
    const name = (JSON.parse(row.settings) as { display_name?: string }).display_name ?? "";
    sql.exec(
      "UPDATE phone_configs SET search_name = ? WHERE phone_number = ?",
      foldName(name),
      row.phone_number,
    );
  }
}

/** The history row; a second revision of the same (number, version) violates the primary key. */
function insertRevision(sql: SqlStorage, revision: Revision): void {
  sql.exec(
    `INSERT INTO phone_config_versions
       (phone_number, version, config, changed_fields, written_at, actor, reason, template)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    revision.phone_number,
    revision.version,
    JSON.stringify(revision.config),
    JSON.stringify(revision.changed_fields),
    revision.written_at,
    revision.actor,
    revision.reason,
    revision.template,
  );
}

/**
 * The document row alone. Exported for the bench's baseline (bench/worker.ts times this write
 * with and without the revision around it); the store itself only calls it from commit().
 */
export function writeConfigRow(sql: SqlStorage, config: PhoneConfig, settings: PhoneSettings): void {
  sql.exec(
    `INSERT INTO phone_configs (phone_number, is_active, search_name, settings, created_at, updated_at, version)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (phone_number) DO UPDATE SET
       is_active = excluded.is_active, search_name = excluded.search_name, settings = excluded.settings,
       updated_at = excluded.updated_at, version = excluded.version`,
    config.phone_number,
    settings.is_active ? 1 : 0,
    foldName(settings.display_name),
    JSON.stringify(settings),
    config.created_at,
    config.updated_at,
    config.version,
  );
}

/** The ConfigStore face of the embedded Durable Object (one instance holds every number). */
export class EmbeddedStore implements ConfigStore {
  readonly backend = "embedded" as const;
  private readonly stub: () => DurableObjectStub<EmbeddedConfigStore>;
  private readonly historyLimit: number;

  constructor(
    namespace: DurableObjectNamespace<EmbeddedConfigStore>,
    options: { instanceName?: string; historyLimit?: number } = {},
  ) {
    this.stub = lazyStub(namespace, options.instanceName ?? "phone-configs");
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw new StoreError("unavailable", `embedded store ${what} failed`, { cause });
    }
  }

  private write(now: Date, change: ChangeInfo | undefined, expectedVersion?: number): EmbeddedWrite {
    return {
      nowIso: now.toISOString(),
      expectedVersion,
      change: change ?? { actor: SYSTEM_ACTOR },
      historyLimit: this.historyLimit,
    };
  }

  get(phone: E164) {
    return this.call("get", () => this.stub().get(phone));
  }

  list(filter: { includeInactive: boolean }) {
    return this.call("list", () => this.stub().list(filter.includeInactive));
  }

  async query(query: ConfigQuery) {
    assertPageBounds(query);
    return this.call("query", () => this.stub().query(query));
  }

  async put(phone: E164, settings: PhoneSettings, options: PutOptions) {
    const write = this.write(options.now, options.change, options.expectedVersion);
    const result: PutResult = await this.call("put", async () => {
      const r = await this.stub().put(phone, settings, write);
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

  deactivate(phone: E164, now: Date, change?: ChangeInfo) {
    return this.call("deactivate", () => this.stub().deactivate(phone, this.write(now, change)));
  }

  remove(phone: E164) {
    return this.call("remove", () => this.stub().remove(phone));
  }

  revisions(phone: E164, query: RevisionQuery) {
    return this.call("revisions", () => this.stub().revisions(phone, query));
  }

  revision(phone: E164, version: number) {
    return this.call("revision", () => this.stub().revision(phone, version));
  }

  templates() {
    return this.call("templates", () => this.stub().templates());
  }

  template(name: string) {
    return this.call("template", () => this.stub().template(name));
  }

  async saveTemplate(template: StoredTemplate, options: { mustBeNew: boolean }) {
    const created = await this.call("saveTemplate", () =>
      this.stub().saveTemplate(template, options.mustBeNew),
    );
    if (created === null) throw new StoreError("conflict", `template "${template.name}" already exists`);
    return { created };
  }

  removeTemplate(name: string) {
    return this.call("removeTemplate", () => this.stub().removeTemplate(name));
  }

  async ping() {
    await this.call("ping", () => this.stub().count());
  }

  async setup() {
    const n = await this.call("setup", () => this.stub().count());
    return [
      `embedded store: nothing to do (SQLite tables, the is_active index and the (phone_number, version) key of the history are created on first use; ${n} documents)`,
    ];
  }
}
