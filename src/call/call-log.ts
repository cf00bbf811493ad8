import { DurableObject } from "cloudflare:workers";
import { errorFields, log } from "../log.ts";
import {
  type AnalyticsRange,
  accumulate,
  type CallFacts,
  callFacts,
  mergeGroups,
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
import type { CallSummary } from "./summary.ts";

/**
 * Call summaries, sharded by phone number: one SQLite-backed CallLog Durable Object per number
 * (named `calls:<E.164>`), so no single object serves every call of the deployment. A call is
 * written when it starts (in progress) and again when it ends. Each write also goes to the
 * directory (the CallLog named `directory`): it keeps the list of shards, which is how
 * cross-number views that need whole summaries find them (they fan out at most FAN_OUT at a
 * time), and the call index (src/call/call-index.ts), one small row per call, which is what a
 * cross-number list reads instead, and how a call is found by its CallSid alone.
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
const LEGACY = "call-log";
/** Shards read at once by a cross-number view: bounded so one request never opens hundreds. */
export const FAN_OUT = 6;

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

  /** The calls of `callSids` this log holds, in no particular order (a list page's, at most 200). */
  async getMany(callSids: string[]): Promise<CallSummary[]> {
    if (callSids.length === 0) return [];
    return this.ctx.storage.sql
      .exec<SummaryRow>(
        `SELECT summary FROM calls WHERE call_sid IN (${callSids.map(() => "?").join(", ")})`,
        ...callSids,
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

function directory(env: Env): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(DIRECTORY));
}

/** Every number with a call log. */
export async function callLogNumbers(env: Env): Promise<string[]> {
  return directory(env).shards();
}

/** `fn` over every item, at most `limit` at once; results in item order. */
export async function fanOut<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Analytics groups over one number's shard (E.164 or "unknown") or, with null, every shard:
 * each shard folds its own stored facts, FAN_OUT at a time, and the partial groups merge
 * exactly. The one computation behind GET /admin/analytics and the console's analytics page.
 */
export async function queryAnalytics(
  env: Env,
  phone: string | null,
  range: AnalyticsRange & { from: string; to: string },
): Promise<{ groups: PartialGroup[]; shards: number }> {
  const numbers = phone ? [phone] : await callLogNumbers(env);
  const partials = await fanOut(numbers, FAN_OUT, (n) => callLog(env, n).analytics(range));
  return { groups: mergeGroups(partials), shards: numbers.length };
}

export interface CallFilter {
  /** one number's shard (E.164 or "unknown"); without it, every number */
  phoneNumber?: string;
  limit: number;
  since?: string;
  until?: string;
  endReason?: string;
  /** the A/B variant's name (routing's `variants`) */
  variant?: string;
}

/**
 * The newest calls matching the filter, with their turns (the admin API's list): the call index
 * picks them in one query (`recentCalls`), then each shard the page names is read once for its
 * calls, FAN_OUT at a time. A page of 50 reads at most 50 shards however many numbers there
 * are. Calls from before sharding are in the legacy log, read for what the shards lack.
 */
export async function listCalls(env: Env, filter: CallFilter): Promise<CallSummary[]> {
  const items = await recentCalls(env, filter);
  const byShard = new Map<string, string[]>();
  for (const item of items) byShard.set(item.to, [...(byShard.get(item.to) ?? []), item.call_sid]);
  const found = new Map<string, CallSummary>();
  const keep = (calls: CallSummary[]) => {
    for (const call of calls) found.set(call.call_sid, call);
  };
  await fanOut([...byShard], FAN_OUT, async ([shard, sids]) => keep(await callLog(env, shard).getMany(sids)));
  const elsewhere = items.filter((item) => !found.has(item.call_sid)).map((item) => item.call_sid);
  if (elsewhere.length > 0) keep(await legacyLog(env).getMany(elsewhere));
  return items.flatMap((item) => found.get(item.call_sid) ?? []);
}

/**
 * The newest calls matching the filter, across every number or one, as a list shows them:
 * one query of the call index (src/call/call-index.ts), whatever the number of shards. The
 * first list after an upgrade fills the index from the shards and the legacy log once.
 */
export async function recentCalls(env: Env, filter: CallFilter): Promise<CallListItem[]> {
  const { phoneNumber, ...rest } = filter;
  const query: CallIndexFilter = { ...rest, ...(phoneNumber && { to: phoneNumber }) };
  const listed = await directory(env).indexedCalls(query);
  if (listed) return listed;
  await fillCallIndex(env);
  return (await directory(env).indexedCalls(query)) ?? [];
}

/**
 * Adds the calls of the shards registered before the index existed, and of the legacy log, to
 * the index, FAN_OUT shards at a time, without touching rows it already has (live writes are
 * newer), then marks it filled. Idempotent: two lists racing to fill it add the same rows.
 */
async function fillCallIndex(env: Env): Promise<void> {
  const numbers = await directory(env).unindexedShards();
  await fanOut([...numbers, LEGACY], FAN_OUT, async (n) => {
    const log = n === LEGACY ? legacyLog(env) : callLog(env, n);
    await directory(env).fillIndex(await log.listItems());
  });
  await directory(env).markIndexFilled();
}

/**
 * One call, live or ended: a live call's own object has the turns so far; an ended one is in
 * the shard the call index names, or else (a call from before the index) looked for FAN_OUT
 * shards at a time, then in the legacy unsharded log.
 */
export async function findCall(env: Env, callSid: string): Promise<CallSummary | null> {
  const live = await env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid)).snapshot();
  if (live) return live;
  const indexed = await directory(env).indexedNumber(callSid);
  const found = indexed ? await callLog(env, indexed).get(callSid) : null;
  if (found) return found;
  const numbers = await callLogNumbers(env);
  for (let i = 0; i < numbers.length; i += FAN_OUT) {
    const found = await Promise.all(numbers.slice(i, i + FAN_OUT).map((n) => callLog(env, n).get(callSid)));
    const call = found.find((f) => f !== null);
    if (call) return call;
  }
  return legacyLog(env).get(callSid);
}
