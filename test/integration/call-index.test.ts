import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CallLog, callLog, legacyLog } from "../../src/call/call-log.ts";
import { findCall, listCalls, recentCalls } from "../../src/call/call-log-reads.ts";
import type { CallSummary, TurnRecord } from "../../src/call/summary.ts";
import { uniquePhone } from "../support/admin.ts";
import { summary } from "../support/call-summary.ts";

/**
 * The call index (src/call/call-index.ts): the cross-number list of calls the console reads in
 * one query, kept by the call log's directory from every shard's writes, filled once from the
 * shards and the legacy log for calls from before it existed.
 */

const directory = () => env.CALL_LOG.get(env.CALL_LOG.idFromName("directory"));
const sids = (calls: { call_sid: string }[]) => calls.map((c) => c.call_sid);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 20, 9, minute)).toISOString();

describe("call index", () => {
  it("lists the newest calls across numbers, newest first, with each filter", async () => {
    const numbers = Array.from({ length: 6 }, () => uniquePhone());
    const calls: CallSummary[] = [];
    for (let i = 0; i < 30; i++) {
      const call = summary(numbers[i % 6] as string, {
        started_at: at(i),
        end_reason: i % 5 === 0 ? "silence" : "completed",
        variant: i % 2 === 0 ? "short-greeting" : null,
        turns: [],
      });
      calls.push(call);
      await callLog(env, call.to).record(call);
    }
    const window = { since: at(0), until: at(30) };
    const newest = [...calls].reverse();
    expect(sids(await recentCalls(env, { ...window, limit: 7 }))).toEqual(sids(newest.slice(0, 7)));
    const one = await recentCalls(env, { ...window, phoneNumber: numbers[1], limit: 100 });
    expect(sids(one)).toEqual(sids(newest.filter((c) => c.to === numbers[1])));
    expect(sids(await recentCalls(env, { ...window, endReason: "silence", limit: 100 }))).toEqual(
      sids(newest.filter((c) => c.end_reason === "silence")),
    );
    expect(sids(await recentCalls(env, { ...window, variant: "short-greeting", limit: 100 }))).toHaveLength(
      15,
    );
    expect(sids(await recentCalls(env, { since: at(10), until: at(12), limit: 100 }))).toEqual(
      sids([calls[11], calls[10]] as CallSummary[]),
    );
    // What a list shows, without the transcripts.
    expect((await recentCalls(env, { ...window, limit: 1 }))[0]).toEqual({
      call_sid: calls[29]?.call_sid,
      from: "+14155550100",
      to: numbers[5],
      display_name: "Sales Line",
      mode: "turns",
      channel: "phone",
      status: "ended",
      started_at: at(29),
      duration_seconds: 60,
      end_reason: "completed",
      variant: null,
      turns: 0,
    });
  });

  it("pages the admin list from the index, with each call's whole summary from its shard", async () => {
    const [busy, quiet] = [uniquePhone(), uniquePhone()];
    const turn: TurnRecord = {
      seq: 1,
      at: at(57),
      outcome: "reply",
      transcript: "What are your hours?",
      reply: "Nine to five.",
      timings: { recording_ms: 80, stt_ms: 100, llm_ms: 200, tts_ms: 150, total_ms: 530 },
    };
    const calls = [
      summary(busy, { started_at: at(56), turns: [turn] }),
      summary(quiet, { started_at: at(57) }),
      summary(busy, { started_at: at(58), turns: [turn, { ...turn, seq: 2 }] }),
    ];
    for (const call of calls) await callLog(env, call.to).record(call);
    const window = { since: at(56), until: at(59) };
    // Transcripts included (only the shards hold them), newest first, as the index orders them.
    expect(await listCalls(env, { ...window, limit: 3 })).toEqual([...calls].reverse());
    expect(await listCalls(env, { ...window, limit: 2 })).toEqual([calls[2], calls[1]]);
    expect(await listCalls(env, { ...window, phoneNumber: busy, limit: 5 })).toEqual([calls[2], calls[0]]);
  });

  it("lists a page of 150 calls from one number's shard (more CallSids than SQLite binds at once)", async () => {
    const phone = uniquePhone();
    const second = (i: number) => new Date(Date.UTC(2026, 10, 21, 9, 0, i)).toISOString();
    const calls = Array.from({ length: 150 }, (_, i) => summary(phone, { started_at: second(i) }));
    for (const call of calls) await callLog(env, phone).record(call);
    const window = { since: second(0), until: second(150) };
    expect(sids(await listCalls(env, { ...window, limit: 150 }))).toEqual(sids([...calls].reverse()));
    expect(sids(await listCalls(env, { ...window, phoneNumber: phone, limit: 150 }))).toEqual(
      sids([...calls].reverse()),
    );
  });

  it("keeps a call's end when its in-progress write arrives late, and finds it by CallSid", async () => {
    const phone = uniquePhone();
    const ended = summary(phone, { started_at: at(40), end_reason: "completed" });
    const inProgress: CallSummary = { ...ended, status: "in_progress", end_reason: null, ended_at: null };
    await callLog(env, phone).record(inProgress);
    const live = await recentCalls(env, { phoneNumber: phone, endReason: "in_progress", limit: 10 });
    expect(sids(live)).toEqual([ended.call_sid]);
    await callLog(env, phone).record(ended);
    await callLog(env, phone).record(inProgress);
    const [row] = await recentCalls(env, { phoneNumber: phone, limit: 10 });
    expect(row).toMatchObject({ status: "ended", end_reason: "completed" });
    await expect(findCall(env, ended.call_sid)).resolves.toMatchObject({
      call_sid: ended.call_sid,
      to: phone,
    });
  });

  it("fills itself once from calls the shards and the legacy log held before it existed", async () => {
    // A directory from before the index: no index tables, and its object restarted (a deploy).
    await runInDurableObject(directory(), async (_i, state) => {
      state.storage.sql.exec("DROP TABLE IF EXISTS call_index");
      state.storage.sql.exec("DROP TABLE IF EXISTS index_pending");
      state.storage.sql.exec("DELETE FROM meta WHERE key = 'index_filled'");
    });
    await evictDurableObject(directory());
    const phone = uniquePhone();
    const sharded = summary(phone, { started_at: at(50) });
    const legacy = summary(phone, { started_at: at(45) });
    // A shard's row as the log wrote it before the index: registered with the directory, not indexed.
    await runInDurableObject(callLog(env, phone), async (_i, state) => {
      state.storage.sql.exec(
        "INSERT INTO calls (call_sid, started_at, facts, summary) VALUES (?, ?, NULL, ?)",
        sharded.call_sid,
        sharded.started_at,
        JSON.stringify(sharded),
      );
    });
    await runInDurableObject(legacyLog(env), async (_i, state) => {
      state.storage.sql.exec(
        "INSERT INTO calls (call_sid, started_at, facts, summary) VALUES (?, ?, NULL, ?)",
        legacy.call_sid,
        legacy.started_at,
        JSON.stringify(legacy),
      );
    });
    await runInDurableObject(directory(), async (_i, state) => {
      state.storage.sql.exec("INSERT OR IGNORE INTO shards (phone_number) VALUES (?)", phone);
    });
    expect(sids(await recentCalls(env, { phoneNumber: phone, limit: 10 }))).toEqual([
      sharded.call_sid,
      legacy.call_sid,
    ]);
    await expect(findCall(env, legacy.call_sid)).resolves.toMatchObject({ call_sid: legacy.call_sid });
  });

  it("has nothing to fill when it existed before the numbers' first calls", async () => {
    const phone = uniquePhone();
    await callLog(env, phone).record(summary(phone, { started_at: at(55) }));
    const pending = await runInDurableObject(directory(), async (instance: CallLog) =>
      instance.unindexedShards(),
    );
    expect(pending).not.toContain(phone);
  });
});
