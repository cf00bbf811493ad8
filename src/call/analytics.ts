import { localTime } from "../config/schedule.ts";
import type { CallSummary, EndReason } from "./summary.ts";

/**
 * Per-number analytics, computed only from stored call summaries: nothing sampled or estimated.
 * A call's figures (`callFacts`) are derived from its summary when the summary is stored; a
 * query folds the facts of the calls in range into groups (`accumulate`), shards' partial
 * groups merge exactly (`mergeGroups`, latencies are kept whole for exact percentiles), and
 * `finish` turns them into the API's answer.
 */

export const GROUP_BY = ["day", "variant", "rule", "end_reason"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** What analytics need from one ended call. */
export interface CallFacts {
  started_at: string;
  /** seconds; null when unknown (a forward whose <Dial> callback has not come) */
  duration_seconds: number | null;
  end_reason: EndReason;
  variant: string | null;
  rule: string | null;
  turns: number;
  barge_ins: number;
  provider_failures: number;
  /**
   * Per-turn latency of each answered turn, ms: STT + LLM + TTS in turns mode, end of speech
   * to the first frame sent to Twilio in stream mode.
   */
  latencies_ms: number[];
}

/** The facts of an ended call; null for one still in progress (it has no outcome yet). */
export function callFacts(summary: CallSummary): CallFacts | null {
  if (summary.status !== "ended" || summary.end_reason === null) return null;
  const latencies: number[] = [];
  for (const turn of summary.turns) {
    if (turn.outcome !== "reply") continue;
    const t = turn.timings;
    const ms = "first_frame_ms" in t ? t.first_frame_ms : t.stt_ms + t.llm_ms + t.tts_ms;
    // A milestone never reached counts as 0 in the summary: no latency to report.
    if (ms > 0) latencies.push(ms);
  }
  return {
    started_at: summary.started_at,
    duration_seconds: summary.duration_seconds,
    end_reason: summary.end_reason,
    variant: summary.variant ?? null,
    rule: summary.rule ?? null,
    turns: summary.turns.length,
    barge_ins: summary.turns.filter((t) => t.interrupted).length,
    provider_failures: summary.turns.filter((t) => t.outcome === "failed").length,
    latencies_ms: latencies,
  };
}

/** One group as a shard computes it: sums, counts and the raw latencies. */
export interface PartialGroup {
  key: string | null;
  calls: number;
  duration_total: number;
  /** calls with a known duration */
  duration_calls: number;
  turns_total: number;
  end_reasons: Record<string, number>;
  barge_ins: number;
  provider_failures: number;
  latencies_ms: number[];
}

export interface AnalyticsRange {
  groupBy: GroupBy;
  /** IANA zone whose calendar days `day` groups by */
  timezone: string;
}

function emptyGroup(key: string | null): PartialGroup {
  return {
    key,
    calls: 0,
    duration_total: 0,
    duration_calls: 0,
    turns_total: 0,
    end_reasons: {},
    barge_ins: 0,
    provider_failures: 0,
    latencies_ms: [],
  };
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * The group key of each call. Days come from Intl, cached per UTC quarter hour: every zone's
 * offset is a whole number of quarter hours, so one lookup serves all calls in that quarter.
 */
function keyer(range: AnalyticsRange): (f: CallFacts) => string | null {
  switch (range.groupBy) {
    case "variant":
      return (f) => f.variant;
    case "rule":
      return (f) => f.rule;
    case "end_reason":
      return (f) => f.end_reason;
    case "day": {
      const days = new Map<number, string>();
      return (f) => {
        const quarter = Math.floor(Date.parse(f.started_at) / QUARTER_HOUR_MS);
        let day = days.get(quarter);
        if (day === undefined) {
          day = localTime(new Date(quarter * QUARTER_HOUR_MS), range.timezone).date;
          days.set(quarter, day);
        }
        return day;
      };
    }
  }
}

/** Folds calls into groups by `range.groupBy`. */
export function accumulate(facts: Iterable<CallFacts>, range: AnalyticsRange): PartialGroup[] {
  const keyOf = keyer(range);
  const groups = new Map<string | null, PartialGroup>();
  for (const f of facts) {
    const key = keyOf(f);
    let g = groups.get(key);
    if (!g) {
      g = emptyGroup(key);
      groups.set(key, g);
    }
    g.calls += 1;
    if (f.duration_seconds !== null) {
      g.duration_total += f.duration_seconds;
      g.duration_calls += 1;
    }
    g.turns_total += f.turns;
    g.end_reasons[f.end_reason] = (g.end_reasons[f.end_reason] ?? 0) + 1;
    g.barge_ins += f.barge_ins;
    g.provider_failures += f.provider_failures;
    for (const ms of f.latencies_ms) g.latencies_ms.push(ms);
  }
  return [...groups.values()];
}

/** Several shards' groups as one list: same keys add up exactly. */
export function mergeGroups(lists: PartialGroup[][]): PartialGroup[] {
  const merged = new Map<string | null, PartialGroup>();
  for (const g of lists.flat()) {
    const m = merged.get(g.key);
    if (!m) {
      merged.set(g.key, { ...g, end_reasons: { ...g.end_reasons }, latencies_ms: [...g.latencies_ms] });
      continue;
    }
    m.calls += g.calls;
    m.duration_total += g.duration_total;
    m.duration_calls += g.duration_calls;
    m.turns_total += g.turns_total;
    for (const [reason, n] of Object.entries(g.end_reasons))
      m.end_reasons[reason] = (m.end_reasons[reason] ?? 0) + n;
    m.barge_ins += g.barge_ins;
    m.provider_failures += g.provider_failures;
    for (const ms of g.latencies_ms) m.latencies_ms.push(ms);
  }
  return [...merged.values()];
}

/** Nearest-rank percentile of sorted values (p in 0–100); null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface AnalyticsGroup {
  /** the day (YYYY-MM-DD), variant, caller rule or end reason; null: calls with no variant/rule */
  key: string | null;
  calls: number;
  duration_seconds: { total: number; mean: number | null };
  mean_turns: number | null;
  end_reasons: Record<string, number>;
  barge_ins: number;
  provider_failures: number;
  /** per-turn latency over every answered turn of the group's calls, ms */
  turn_latency_ms: { turns: number; p50: number | null; p90: number | null };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * The API's groups, ordered by key (nulls last). With `fill`, every key in `fillKeys` is
 * present, zero-filled when it had no calls; without it, a group with no calls is absent.
 */
export function finish(groups: PartialGroup[], fillKeys: (string | null)[] | null): AnalyticsGroup[] {
  const byKey = new Map(groups.map((g) => [g.key, g]));
  for (const key of fillKeys ?? []) if (!byKey.has(key)) byKey.set(key, emptyGroup(key));
  return [...byKey.values()]
    .sort((a, b) => (a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((g) => {
      const sorted = [...g.latencies_ms].sort((x, y) => x - y);
      return {
        key: g.key,
        calls: g.calls,
        duration_seconds: {
          total: g.duration_total,
          mean: g.duration_calls ? round(g.duration_total / g.duration_calls) : null,
        },
        mean_turns: g.calls ? round(g.turns_total / g.calls) : null,
        end_reasons: g.end_reasons,
        barge_ins: g.barge_ins,
        provider_failures: g.provider_failures,
        turn_latency_ms: { turns: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90) },
      };
    });
}

/** Every local day from `from` to `to` (inclusive), YYYY-MM-DD, for `fill` by day. At most 366. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  const d = new Date(`${from}T00:00:00Z`);
  while (days.length < 366) {
    const day = d.toISOString().slice(0, 10);
    if (day > to) break;
    days.push(day);
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return days;
}
