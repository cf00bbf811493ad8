import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callLog } from "../../src/call/call-log.ts";
import type { CallSummary, TurnRecord } from "../../src/call/summary.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { summary } from "../support/call-summary.ts";

/** GET /admin/analytics against call summaries built by hand and stored in the number's shard. */

let seq = 0;
function turnsTurn(
  stt: number,
  llm: number,
  tts: number,
  outcome: TurnRecord["outcome"] = "reply",
): TurnRecord {
  return {
    seq: ++seq,
    at: "2026-11-02T10:00:00.000Z",
    outcome,
    transcript: outcome === "reply" ? "hi" : null,
    reply: outcome === "reply" ? "hello" : null,
    ...(outcome === "failed" && { failed_stage: "llm" }),
    timings: { recording_ms: 100, stt_ms: stt, llm_ms: llm, tts_ms: tts, total_ms: stt + llm + tts + 100 },
  };
}
function streamTurn(firstFrame: number, interrupted = false): TurnRecord {
  return {
    seq: ++seq,
    at: "2026-11-02T10:00:00.000Z",
    outcome: "reply",
    transcript: "hi",
    reply: "hello",
    timings: { transcript_ms: 100, first_token_ms: 200, first_audio_ms: 300, first_frame_ms: firstFrame },
    ...(interrupted && { interrupted: true }),
  };
}

describe("GET /admin/analytics", () => {
  it("computes every figure from the stored summaries, per group", async () => {
    const phone = uniquePhone();
    await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, {
        variants: [
          { name: "a", weight: 50, settings: {} },
          { name: "b", weight: 50, settings: {} },
          // (weights must sum to 100: c is configured but paused)
          { name: "c", weight: 0, settings: {} },
        ],
      }),
    });
    const calls: CallSummary[] = [
      // variant a, 2 November (New York), turns mode: latencies 600 and 900, one failed turn
      summary(phone, {
        variant: "a",
        started_at: "2026-11-02T15:00:00.000Z",
        duration_seconds: 30,
        turns: [turnsTurn(100, 300, 200), turnsTurn(200, 400, 300), turnsTurn(0, 0, 0, "failed")],
      }),
      // variant a, 2 November: stream mode, latencies 450 and 700, one barge-in; hung up on silence
      summary(phone, {
        variant: "a",
        mode: "stream",
        started_at: "2026-11-02T20:00:00.000Z",
        duration_seconds: 90,
        end_reason: "silence",
        turns: [streamTurn(450), streamTurn(700, true), turnsTurn(0, 0, 0, "silence")],
      }),
      // variant b, 3 November: latency 500
      summary(phone, {
        variant: "b",
        started_at: "2026-11-03T16:00:00.000Z",
        duration_seconds: 45,
        turns: [turnsTurn(100, 200, 200)],
      }),
      // rejected by a rule: no variant, 4 November 03:00 UTC = 3 November 22:00 in New York
      summary(phone, {
        started_at: "2026-11-04T03:00:00.000Z",
        duration_seconds: 0,
        end_reason: "rejected",
        rule: "blocked",
      }),
      // still in progress: not counted
      summary(phone, {
        variant: "b",
        status: "in_progress",
        ended_at: null,
        duration_seconds: null,
        end_reason: null,
        started_at: "2026-11-03T17:00:00.000Z",
      }),
      // outside the range
      summary(phone, { variant: "b", started_at: "2026-10-20T12:00:00.000Z" }),
    ];
    for (const c of calls) await callLog(env, phone).record(c);

    const query = (q: string) =>
      admin(
        "GET",
        `/admin/analytics?phone_number=${encodeURIComponent(phone)}&from=2026-11-01&to=2026-11-05&timezone=America/New_York&${q}`,
      );

    const byVariant = await query("group_by=variant");
    expect(byVariant.status, JSON.stringify(byVariant.json)).toBe(200);
    expect(byVariant.json.groups).toEqual([
      {
        key: "a",
        calls: 2,
        duration_seconds: { total: 120, mean: 60 },
        mean_turns: 3,
        end_reasons: { completed: 1, silence: 1 },
        barge_ins: 1,
        provider_failures: 1,
        // sorted 450, 600, 700, 900: nearest rank p50 = 2nd, p90 = 4th
        turn_latency_ms: { turns: 4, p50: 600, p90: 900 },
      },
      {
        key: "b",
        calls: 1,
        duration_seconds: { total: 45, mean: 45 },
        mean_turns: 1,
        end_reasons: { completed: 1 },
        barge_ins: 0,
        provider_failures: 0,
        turn_latency_ms: { turns: 1, p50: 500, p90: 500 },
      },
      {
        key: null,
        calls: 1,
        duration_seconds: { total: 0, mean: 0 },
        mean_turns: 0,
        end_reasons: { rejected: 1 },
        barge_ins: 0,
        provider_failures: 0,
        turn_latency_ms: { turns: 0, p50: null, p90: null },
      },
    ]);

    // Days in New York: the rejected call (03:00 UTC on the 4th) belongs to the 3rd.
    const byDay = await query("group_by=day");
    expect(byDay.json.groups.map((g: { key: string; calls: number }) => [g.key, g.calls])).toEqual([
      ["2026-11-02", 2],
      ["2026-11-03", 2],
    ]);
    const filled = await query("group_by=day&fill=true");
    expect(filled.json.groups.map((g: { key: string; calls: number }) => [g.key, g.calls])).toEqual([
      ["2026-11-01", 0],
      ["2026-11-02", 2],
      ["2026-11-03", 2],
      ["2026-11-04", 0],
      ["2026-11-05", 0],
    ]);
    expect(filled.json.groups[0]).toMatchObject({
      duration_seconds: { total: 0, mean: null },
      mean_turns: null,
    });

    const variantsFilled = await query("group_by=variant&fill=true");
    expect(variantsFilled.json.groups.map((g: { key: string }) => g.key)).toEqual(["a", "b", "c", null]);

    const byReason = await query("group_by=end_reason");
    expect(byReason.json.groups.map((g: { key: string; calls: number }) => [g.key, g.calls])).toEqual([
      ["completed", 2],
      ["rejected", 1],
      ["silence", 1],
    ]);
    // fill=true lists every way a call can end, including the ones tools and transfers add.
    const reasonsFilled = await query("group_by=end_reason&fill=true");
    const filledReasons = reasonsFilled.json.groups.map((g: { key: string }) => g.key);
    expect(filledReasons).toEqual(
      expect.arrayContaining(["agent_hangup", "transferred", "rejected", "forwarded"]),
    );
    expect(reasonsFilled.json.groups.find((g: { key: string }) => g.key === "agent_hangup")).toMatchObject({
      calls: 0,
    });
    const byRule = await query("group_by=rule");
    expect(byRule.json.groups.map((g: { key: string; calls: number }) => [g.key, g.calls])).toEqual([
      ["blocked", 1],
      [null, 3],
    ]);
  });

  it("merges every number's shard when no number is given, and lists calls across shards", async () => {
    const [one, two] = [uniquePhone(), uniquePhone()];
    const at = "2026-06-15T12:00:00.000Z";
    await callLog(env, one).record(summary(one, { started_at: at, end_reason: "busy", duration_seconds: 5 }));
    await callLog(env, two).record(summary(two, { started_at: at, end_reason: "busy", duration_seconds: 7 }));
    const all = await admin("GET", "/admin/analytics?from=2026-06-15&to=2026-06-15&group_by=end_reason");
    expect(all.json.shards).toBeGreaterThanOrEqual(2);
    expect(all.json.groups.find((g: { key: string }) => g.key === "busy")).toMatchObject({
      calls: 2,
      duration_seconds: { total: 12, mean: 6 },
    });
    const listed = await admin("GET", "/admin/calls?limit=200");
    const tos = listed.json.calls.map((c: { to: string }) => c.to);
    expect(tos).toEqual(expect.arrayContaining([one, two]));
  });

  it("names a bad parameter", async () => {
    const res = await admin("GET", "/admin/analytics?group_by=week");
    expect(res.status).toBe(400);
    expect(res.json.error.details[0]).toMatchObject({ field: "group_by" });
    const tz = await admin("GET", "/admin/analytics?timezone=Nowhere/Land");
    expect(tz.json.error.details[0]).toMatchObject({ field: "timezone" });
  });
});
