import type { CallSummary } from "./summary.ts";

/**
 * The call index: one small row per call, across every number, kept by the call log's
 * directory (src/call/call-log.ts) next to its list of shards. It is what a cross-number list
 * reads: the newest calls of every number in one indexed query, where reading the shards
 * would take one request per number (the latest 100 calls may come from 100 numbers). It holds
 * what a list shows, never transcripts; a call's page still reads the call from its own shard,
 * which the index names.
 */

/** A call as a list shows it: its summary without the turns (their count instead). */
export interface CallListItem {
  call_sid: string;
  from: string;
  to: string;
  display_name: string;
  mode: CallSummary["mode"];
  channel: CallSummary["channel"];
  status: CallSummary["status"];
  /** ISO 8601 */
  started_at: string;
  duration_seconds: number | null;
  end_reason: CallSummary["end_reason"];
  /** the A/B variant the call got, null without one */
  variant: string | null;
  turns: number;
}

/** What a list of calls may be narrowed by. */
export interface CallIndexFilter {
  /** the number called (E.164, or "unknown") */
  to?: string;
  /** started_at ≥ since (ISO 8601) */
  since?: string;
  /** started_at < until (ISO 8601) */
  until?: string;
  /** a final end reason, or "in_progress" for calls not ended yet */
  endReason?: string;
  variant?: string;
  limit: number;
}

interface IndexRow extends Record<string, SqlStorageValue> {
  item: string;
}

/** A summary as its index row. */
export function listItemOf(summary: CallSummary): CallListItem {
  return {
    call_sid: summary.call_sid,
    from: summary.from,
    to: summary.to,
    display_name: summary.display_name,
    mode: summary.mode,
    channel: summary.channel,
    status: summary.status,
    started_at: summary.started_at,
    duration_seconds: summary.duration_seconds,
    end_reason: summary.end_reason,
    variant: summary.variant ?? null,
    turns: summary.turns.length,
  };
}

/** Creates the index's table and indexes where missing (idempotent; the directory calls it once). */
export function createCallIndex(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS call_index (
    call_sid TEXT PRIMARY KEY,
    to_number TEXT NOT NULL,
    started_at TEXT NOT NULL,
    end_reason TEXT,
    variant TEXT,
    item TEXT NOT NULL
  )`);
  sql.exec("CREATE INDEX IF NOT EXISTS call_index_by_start ON call_index (started_at)");
  sql.exec("CREATE INDEX IF NOT EXISTS call_index_by_number ON call_index (to_number, started_at)");
}

/**
 * Inserts or updates calls' rows. An ended call's row is never taken back to in progress: a
 * late start write (the two writes of a call are separate requests) must not undo its end.
 * `onlyNew`: leave rows that exist alone (the one-time fill from the shards).
 */
export function indexCalls(sql: SqlStorage, items: readonly CallListItem[], onlyNew = false): void {
  const conflict = onlyNew
    ? "DO NOTHING"
    : `DO UPDATE SET end_reason = excluded.end_reason, variant = excluded.variant, item = excluded.item
       WHERE excluded.end_reason IS NOT NULL OR call_index.end_reason IS NULL`;
  for (const item of items) {
    sql.exec(
      `INSERT INTO call_index (call_sid, to_number, started_at, end_reason, variant, item)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_sid) ${conflict}`,
      item.call_sid,
      item.to,
      item.started_at,
      item.end_reason,
      item.variant,
      JSON.stringify(item),
    );
  }
}

/** Calls matching the filter, newest first, at most `limit`. */
export function queryCallIndex(sql: SqlStorage, filter: CallIndexFilter): CallListItem[] {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  const add = (clause: string, value: SqlStorageValue) => {
    where.push(clause);
    args.push(value);
  };
  if (filter.to) add("to_number = ?", filter.to);
  if (filter.since) add("started_at >= ?", filter.since);
  if (filter.until) add("started_at < ?", filter.until);
  if (filter.endReason === "in_progress") where.push("end_reason IS NULL");
  else if (filter.endReason) add("end_reason = ?", filter.endReason);
  if (filter.variant) add("variant = ?", filter.variant);
  return sql
    .exec<IndexRow>(
      `SELECT item FROM call_index ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY started_at DESC LIMIT ?`,
      ...args,
      filter.limit,
    )
    .toArray()
    .map((row) => JSON.parse(row.item) as CallListItem);
}

/** The number a call went to (its shard), or null when the index does not have the call. */
export function indexedNumber(sql: SqlStorage, callSid: string): string | null {
  const row = sql
    .exec<{ to_number: string }>("SELECT to_number FROM call_index WHERE call_sid = ?", callSid)
    .toArray()[0];
  return row?.to_number ?? null;
}
