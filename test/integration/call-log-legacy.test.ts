import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callLog, legacyLog } from "../../src/call/call-log.ts";
import { findCall, listCalls, recentCalls } from "../../src/call/call-log-reads.ts";
import type { CallSummary } from "../../src/call/summary.ts";
import { uniquePhone } from "../support/admin.ts";
import { summary } from "../support/call-summary.ts";

/**
 * Calls logged before the log was sharded live in the single CallLog named "call-log", in its
 * old table (call_sid, to_number, started_at, summary). After the upgrade they are still listed
 * and found next to the shards' calls, and nothing is written there.
 */

async function seedLegacy(calls: CallSummary[]): Promise<void> {
  await runInDurableObject(legacyLog(env), async (_instance, state) => {
    const sql = state.storage.sql;
    // The table exactly as the unsharded log created it.
    sql.exec("DROP TABLE IF EXISTS calls");
    sql.exec(`CREATE TABLE calls (
      call_sid TEXT PRIMARY KEY,
      to_number TEXT NOT NULL,
      started_at TEXT NOT NULL,
      summary TEXT NOT NULL
    )`);
    sql.exec("CREATE INDEX calls_by_number ON calls (to_number, started_at)");
    sql.exec("CREATE INDEX calls_by_start ON calls (started_at)");
    for (const c of calls)
      sql.exec(
        "INSERT INTO calls (call_sid, to_number, started_at, summary) VALUES (?, ?, ?, ?)",
        c.call_sid,
        c.to,
        c.started_at,
        JSON.stringify(c),
      );
  });
}

const legacyRows = () =>
  runInDurableObject(
    legacyLog(env),
    async (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM calls").one().n,
  );

describe("legacy unsharded call log", () => {
  it("lists and finds pre-sharding calls with the sharded ones, per number and across numbers", async () => {
    const phone = uniquePhone();
    const other = uniquePhone();
    const oldCall = summary(phone, { started_at: "2025-12-01T10:00:00.000Z", end_reason: "silence" });
    const oldOther = summary(other, { started_at: "2025-12-02T10:00:00.000Z" });
    await seedLegacy([oldCall, oldOther]);
    const newCall = summary(phone, { started_at: "2026-06-01T10:00:00.000Z" });
    await callLog(env, phone).record(newCall);

    const mine = await listCalls(env, { phoneNumber: phone, limit: 50 });
    expect(mine.map((c) => c.call_sid)).toEqual([newCall.call_sid, oldCall.call_sid]);
    const all = (await listCalls(env, { limit: 500 })).map((c) => c.call_sid);
    expect(all).toEqual(expect.arrayContaining([newCall.call_sid, oldCall.call_sid, oldOther.call_sid]));
    // The filters apply to legacy calls too.
    const silent = await listCalls(env, { phoneNumber: phone, limit: 50, endReason: "silence" });
    expect(silent.map((c) => c.call_sid)).toEqual([oldCall.call_sid]);
    const recent = await listCalls(env, { phoneNumber: phone, limit: 50, since: "2026-01-01T00:00:00.000Z" });
    expect(recent.map((c) => c.call_sid)).toEqual([newCall.call_sid]);

    // The console's list (the call index) takes them in when it fills itself from the old table.
    const listed = await recentCalls(env, { phoneNumber: phone, limit: 50 });
    expect(listed.map((c) => c.call_sid)).toEqual([newCall.call_sid, oldCall.call_sid]);

    await expect(findCall(env, oldOther.call_sid)).resolves.toMatchObject({
      call_sid: oldOther.call_sid,
      to: other,
    });
    await expect(findCall(env, "CAnotacallanywhere")).resolves.toBeNull();
    // Read-only: the new call went to its shard, the legacy log still has its two.
    await expect(legacyRows()).resolves.toBe(2);
  });
});
