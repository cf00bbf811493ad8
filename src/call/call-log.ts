import { DurableObject } from "cloudflare:workers";
import type { CallSummary } from "./summary.ts";

/**
 * Every call's summary, for `/admin/calls`: one SQLite-backed Durable Object. A call is
 * written when it starts (in progress) and again when it ends, so live calls show too.
 */
interface Row extends Record<string, SqlStorageValue> {
  summary: string;
}

export class CallLog extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS calls (
        call_sid TEXT PRIMARY KEY,
        to_number TEXT NOT NULL,
        started_at TEXT NOT NULL,
        summary TEXT NOT NULL
      )`);
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS calls_by_number ON calls (to_number, started_at)");
      ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS calls_by_start ON calls (started_at)");
    });
  }

  async record(summary: CallSummary): Promise<void> {
    this.ctx.storage.sql.exec(
      `INSERT INTO calls (call_sid, to_number, started_at, summary) VALUES (?, ?, ?, ?)
       ON CONFLICT (call_sid) DO UPDATE SET summary = excluded.summary`,
      summary.call_sid,
      summary.to,
      summary.started_at,
      JSON.stringify(summary),
    );
  }

  async get(callSid: string): Promise<CallSummary | null> {
    const row = this.ctx.storage.sql
      .exec<Row>("SELECT summary FROM calls WHERE call_sid = ?", callSid)
      .toArray()[0];
    return row ? (JSON.parse(row.summary) as CallSummary) : null;
  }

  /**
   * Most recent first. `since`/`until` bound started_at (ISO 8601, inclusive/exclusive);
   * `endReason` matches the summary's end_reason ("in_progress" matches calls not ended yet).
   */
  async list(filter: CallFilter): Promise<CallSummary[]> {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (filter.phoneNumber) {
      where.push("to_number = ?");
      args.push(filter.phoneNumber);
    }
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
    const sql = `SELECT summary FROM calls ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY started_at DESC LIMIT ?`;
    return this.ctx.storage.sql
      .exec<Row>(sql, ...args, filter.limit)
      .toArray()
      .map((r) => JSON.parse(r.summary) as CallSummary);
  }
}

export interface CallFilter {
  phoneNumber?: string;
  limit: number;
  since?: string;
  until?: string;
  endReason?: string;
}

export function callLog(env: Env, instanceName = "call-log"): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(instanceName));
}

/** One call, live or ended: a live call's own object has the turns so far; an ended one is in the log. */
export async function findCall(env: Env, callSid: string): Promise<CallSummary | null> {
  const live = await env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid)).snapshot();
  return live ?? (await callLog(env).get(callSid));
}
