import type { CallState, StoredTurn } from "./call-state.ts";

/**
 * A CallSession's SQLite storage: one row for the call's state, one per stored turn (keyed by
 * the webhook or stream turn that produced it, so a retry finds its answer).
 */
export class CallStorage {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  /** Also after a finished call's deleteAll(), should Twilio reuse the object (a retried webhook). */
  ensureSchema(): void {
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS call (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL)",
    );
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS turns (seq INTEGER PRIMARY KEY, key TEXT UNIQUE, data TEXT NOT NULL)",
    );
  }

  /** The call this object holds (null: none), with its turns in seq order. */
  load(): { state: CallState | null; turns: StoredTurn[] } {
    this.ensureSchema();
    const row = this.sql.exec<{ data: string }>("SELECT data FROM call WHERE id = 1").toArray()[0];
    const turns = this.sql
      .exec<{ data: string }>("SELECT data FROM turns ORDER BY seq")
      .toArray()
      .map((r) => JSON.parse(r.data) as StoredTurn);
    return { state: row ? (JSON.parse(row.data) as CallState) : null, turns };
  }

  saveState(state: CallState): void {
    this.sql.exec("INSERT OR REPLACE INTO call (id, data) VALUES (1, ?)", JSON.stringify(state));
  }

  saveTurn(stored: StoredTurn): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO turns (seq, key, data) VALUES (?, ?, ?)",
      stored.record.seq,
      stored.key,
      JSON.stringify(stored),
    );
  }
}
