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
      .exec<Row>("SELECT summary FROM calls WHERE call_sid = ?", callSid)
      .toArray()[0];
    return row ? (JSON.parse(row.summary) as CallSummary) : null;
  }

  /** Most recent first. */
  async list(filter: { phoneNumber?: string; limit: number }): Promise<CallSummary[]> {
    const rows = filter.phoneNumber
      ? this.ctx.storage.sql.exec<Row>(
          "SELECT summary FROM calls WHERE to_number = ? ORDER BY started_at DESC LIMIT ?",
          filter.phoneNumber,
          filter.limit,
        )
      : this.ctx.storage.sql.exec<Row>(
          "SELECT summary FROM calls ORDER BY started_at DESC LIMIT ?",
          filter.limit,
        );
    return rows.toArray().map((r) => JSON.parse(r.summary) as CallSummary);
  }
}

export function callLog(env: Env, instanceName = "call-log"): DurableObjectStub<CallLog> {
  return env.CALL_LOG.get(env.CALL_LOG.idFromName(instanceName));
}
