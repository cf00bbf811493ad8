import { DurableObject } from "cloudflare:workers";
import { errorFields, log } from "../log.ts";
import {
  type AnalyticsRange,
  accumulate,
  type CallFacts,
  callFacts,
  type PartialGroup,
} from "./analytics.ts";
import {
  type CallIndexFilter,
  type CallListItem,
  createCallIndex,
  indexCalls,
  indexedNumber,
  listItemOf,
  queryCallIndex,
} from "./call-index.ts";
import type { CallFilter } from "./call-log-reads.ts";
import type { CallSummary } from "./summary.ts";

/**
 * Call summaries, sharded by phone number: one SQLite-backed CallLog Durable Object per number
 * (named `calls:<E.164>`), so no single object serves every call of the deployment. A call is
 * written when it starts (in progress) and again when it ends. Each write also goes to the
 * directory (the CallLog named `directory`): it keeps the list of shards, which is how
 * cross-number views that need every shard find them, and the call index
 * (src/call/call-index.ts), one small row per call, which is what a cross-number list reads,
 * and how a call is found by its CallSid alone. The reads across shards are in
 * call-log-reads.ts.
 */

interface SummaryRow extends Record<string, SqlStorageValue> {
  summary: string;
}

interface FactsRow extends Record<string, SqlStorageValue> {
  facts: string;
}

const DIRECTORY = "directory";
/**
 * The single CallLog every call went to before the log was sharded. Its calls (old schema:
 * call_sid, to_number, started_at, summary) are still listed and found, read-only, so an
 * upgrade loses no history; nothing writes to it any more.
 */
export const LEGACY = "call-log";
/** The directory's meta key set once the index holds every call the shards held before it existed. */
const INDEX_FILLED = "index_filled";

export class CallLog extends DurableObject<Env> {
  private indexReady = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS calls (
        call_sid TEXT PRIMARY KEY,
        started_at TEXT NOT NULL,
        facts TEXT,
        summary TEXT NOT NULL
      )`);
      sql.exec("CREATE INDEX IF NOT EXISTS calls_by_start ON calls (started_at)");
      sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      sql.exec("CREATE TABLE IF NOT EXISTS shards (phone_number TEXT PRIMARY KEY)");
    });
  }

  /**
   * Inserts or replaces the call's summary (Twilio retries make writes repeat), then indexes it
   * in the directory. A failed index write is logged, not thrown: the call's own log entry is
   * written, and the call's next write indexes it again.
   */
  async record(summary: CallSummary): Promise<void> {
    const facts = callFacts(summary);
    this.ctx.storage.sql.exec(
      `INSERT INTO calls (call_sid, started_at, facts, summary) VALUES (?, ?, ?, ?)
       ON CONFLICT (call_sid) DO UPDATE SET facts = excluded.facts, summary = excluded.summary`,
      summary.call_sid,
      summary.started_at,
      facts ? JSON.stringify(facts) : null,
      JSON.stringify(summary),
    );
    try {
      await directory(this.env).indexCall(listItemOf(summary));
    } catch (err) {
      log.warn("call_index_write_failed", { call_sid: summary.call_sid, ...errorFields(err) });
    }
  }

  /**
   * A call's session starting: its in-progress summary, unless the call is already in the log
   * as ended (its final status callback came first, or it was finalised and a late webhook
   * would bring it back). True when the call may go on.
   */
  async begin(summary: CallSummary): Promise<boolean> {
    const existing = await this.get(summary.call_sid);
    if (existing?.end_reason) return false;
    await this.record(summary);
    return true;
  }

  /**
   * An ended call that never had a session (it hung up during the greeting): written only when
   * the log has nothing for it yet, so a rejected or forwarded call's own entry is kept. True
   * when written.
   */
  async recordIfAbsent(summary: CallSummary): Promise<boolean> {
    if (await this.get(summary.call_sid)) return false;
    await this.record(summary);
    return true;
  }

  /** A forwarded call's <Dial> ended: its record gets the connected time. False if unknown. */
  async forwardEnded(callSid: string, durationSeconds: number, dialStatus: string): Promise<boolean> {
    const call = await this.get(callSid);
    if (call?.end_reason !== "forwarded") return false;
    await this.record({
      ...call,
      duration_seconds: durationSeconds,
      ended_at: new Date().toISOString(),
      forward_status: dialStatus,
    });
    return true;
  }

  async get(callSid: string): Promise<CallSummary | null> {
    const row = this.ctx.storage.sql
      .exec<SummaryRow>("SELECT summary FROM calls WHERE call_sid = ?", callSid)
      .toArray()[0];
    return row ? (JSON.parse(row.summary) as CallSummary) : null;
  }

  /** The calls of `callSids` this log holds, in no particular order (a list page's, up to 200). */
  async getMany(callSids: string[]): Promise<CallSummary[]> {
    // One JSON parameter, not one per CallSid: a Durable Object's SQLite binds at most 100
    // (https://developers.cloudflare.com/durable-objects/platform/limits/), a page up to 200.
    return this.ctx.storage.sql
      .exec<SummaryRow>(
        "SELECT summary FROM calls WHERE call_sid IN (SELECT value FROM json_each(?))",
        JSON.stringify(callSids),
      )
      .toArray()
      .map((r) => JSON.parse(r.summary) as CallSummary);
  }

  /**
   * Most recent first. `since`/`until` bound started_at (ISO 8601, inclusive/exclusive);
   * `endReason` matches the summary's end_reason ("in_progress" matches calls not ended yet);
   * `variant` the A/B variant the call got; `to` the number called (the legacy log holds every number).
   */
  async list(filter: Omit<CallFilter, "phoneNumber"> & { to?: string }): Promise<CallSummary[]> {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (filter.since) {
      where.push("started_at >= ?");
      args.push(filter.since);
    }
    if (filter.until) {
      where.push("started_at < ?");
      args.push(filter.until);
    }
    if (filter.endReason === "in_progress") where.push("json_extract(summary, '$.end_reason') IS NULL");
    else if (filter.endReason) {
      where.push("json_extract(summary, '$.end_reason') = ?");
      args.push(filter.endReason);
    }
    if (filter.to) {
      where.push("json_extract(summary, '$.to') = ?");
      args.push(filter.to);
    }
    if (filter.variant) {
      where.push("json_extract(summary, '$.variant') = ?");
      args.push(filter.variant);
    }
    const sql = `SELECT summary FROM calls ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY started_at DESC LIMIT ?`;
    return this.ctx.storage.sql
      .exec<SummaryRow>(sql, ...args, filter.limit)
      .toArray()
      .map((r) => JSON.parse(r.summary) as CallSummary);
  }

  /** Ended calls started in [from, to) (ISO instants), folded into groups. */
  async analytics(query: AnalyticsRange & { from: string; to: string }): Promise<PartialGroup[]> {
    const rows = this.ctx.storage.sql.exec<FactsRow>(
      "SELECT facts FROM calls WHERE facts IS NOT NULL AND started_at >= ? AND started_at < ?",
      query.from,
      query.to,
    );
    return accumulate(
      (function* () {
        for (const row of rows) yield JSON.parse(row.facts) as CallFacts;
      })(),
      query,
    );
  }

  /** Shard role: every call here as the index lists it (the index's one-time fill reads it). */
  async listItems(): Promise<CallListItem[]> {
    return this.ctx.storage.sql
      .exec<SummaryRow>("SELECT summary FROM calls")
      .toArray()
      .map((r) => listItemOf(JSON.parse(r.summary) as CallSummary));
  }

  /** Directory role: a call's row in the index; its number's shard is registered if new. */
  async indexCall(item: CallListItem): Promise<void> {
    const sql = this.indexSql();
    sql.exec("INSERT OR IGNORE INTO shards (phone_number) VALUES (?)", item.to);
    indexCalls(sql, [item]);
  }

  /** Directory role: calls from before the index, added where the index has no row yet. */
  async fillIndex(items: CallListItem[]): Promise<void> {
    indexCalls(this.indexSql(), items, true);
  }

  /** Directory role: the index is complete from now on (see fillCallIndex). */
  async markIndexFilled(): Promise<void> {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", INDEX_FILLED, "1");
  }

  /** Directory role: the newest matching calls; null until the index has been filled once. */
  async indexedCalls(filter: CallIndexFilter): Promise<CallListItem[] | null> {
    const sql = this.indexSql();
    if (sql.exec("SELECT 1 FROM meta WHERE key = ?", INDEX_FILLED).toArray().length === 0) return null;
    return queryCallIndex(sql, filter);
  }

  /** Directory role: the shard holding a call, or null when the index does not know it. */
  async indexedNumber(callSid: string): Promise<string | null> {
    return indexedNumber(this.indexSql(), callSid);
  }

  /**
   * The index's tables, created on first use. The shards registered by then hold calls from
   * before the index: they are noted in `index_pending`, which the one-time fill reads (with the
   * legacy log); shards registered later are indexed as their calls are written.
   */
  private indexSql(): SqlStorage {
    const sql = this.ctx.storage.sql;
    if (!this.indexReady) {
      const existed = tableExists(sql, "call_index");
      createCallIndex(sql);
      if (!existed) sql.exec("CREATE TABLE IF NOT EXISTS index_pending AS SELECT phone_number FROM shards");
      this.indexReady = true;
    }
    return sql;
  }

  /** Directory role: the shards whose calls may predate the index (all of them if unknown). */
  async unindexedShards(): Promise<string[]> {
    const sql = this.indexSql();
    const table = tableExists(sql, "index_pending") ? "index_pending" : "shards";
    return sql
      .exec<{ phone_number: string }>(`SELECT phone_number FROM ${table} ORDER BY phone_number`)
      .toArray()
      .map((r) => r.phone_number);
  }

  /** Directory role: every number that has a shard. */
  async shards(): Promise<string[]> {
    return this.ctx.storage.sql
      .exec<{ phone_number: string }>("SELECT phone_number FROM shards ORDER BY phone_number")
      .toArray()
      .map((r) => r.phone_number);
  }
}

function tableExists(sql: SqlStorage, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}

/** The call log of one number (E.164, or "unknown" for calls no number was found for). */
export function callLog(env: Env, phone: string): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(`calls:${phone}`));
}

/** The pre-sharding log (read-only): see LEGACY. */
export function legacyLog(env: Env): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(LEGACY));
}

/** The directory: the list of shards and the call index. */
export function directory(env: Env): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(DIRECTORY));
}
