import type { CallSummary, TurnRecord } from "../../call/summary.ts";

/**
 * The analytics page's figures from call summaries: calls and minutes per day, end reasons,
 * p50/p90 response latency per day, and per-variant figures where calls carry a variant.
 * Response latency is what a caller waits after speaking: first frame sent (stream) or the
 * whole turn (turns mode), in ms; only turns that produced a reply count.
 */

export interface DayFigures {
  /** YYYY-MM-DD, UTC */
  day: string;
  calls: number;
  minutes: number;
  p50_ms: number | null;
  p90_ms: number | null;
}

export interface Analytics {
  days: DayFigures[];
  totals: { calls: number; minutes: number; turns: number; p50_ms: number | null; p90_ms: number | null };
  end_reasons: { reason: string; calls: number }[];
  variants: { variant: string; calls: number; minutes: number; p50_ms: number | null }[];
}

/** The latency a caller felt in this turn, in ms; null for silence or failure. */
export function responseLatency(turn: TurnRecord): number | null {
  if (turn.outcome !== "reply") return null;
  const t = turn.timings as unknown as Record<string, number | undefined>;
  const ms = t.first_frame_ms ?? t.total_ms;
  return typeof ms === "number" && Number.isFinite(ms) ? ms : null;
}

/** Nearest-rank percentile of unsorted values; null for none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

const minutesOf = (call: CallSummary) => (call.duration_seconds ?? 0) / 60;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** Every day from `since` to `until` (inclusive, UTC), so quiet days show as zero. */
function dayRange(since: string, until: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= Date.parse(`${until}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export function analyticsOf(calls: CallSummary[], since: string, until: string): Analytics {
  const byDay = new Map<string, { calls: number; minutes: number; latencies: number[] }>();
  for (const day of dayRange(since, until)) byDay.set(day, { calls: 0, minutes: 0, latencies: [] });
  const reasons = new Map<string, number>();
  const variants = new Map<string, { calls: number; minutes: number; latencies: number[] }>();
  const all: number[] = [];
  let turns = 0;
  for (const call of calls) {
    const latencies = call.turns.map(responseLatency).filter((ms): ms is number => ms !== null);
    turns += call.turns.length;
    all.push(...latencies);
    const day = byDay.get(call.started_at.slice(0, 10));
    if (day) {
      day.calls += 1;
      day.minutes += minutesOf(call);
      day.latencies.push(...latencies);
    }
    const reason = call.end_reason ?? "in_progress";
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    const variant = (call as CallSummary & { variant?: string | null }).variant;
    if (variant) {
      const v = variants.get(variant) ?? { calls: 0, minutes: 0, latencies: [] };
      v.calls += 1;
      v.minutes += minutesOf(call);
      v.latencies.push(...latencies);
      variants.set(variant, v);
    }
  }
  return {
    days: [...byDay].map(([day, d]) => ({
      day,
      calls: d.calls,
      minutes: round1(d.minutes),
      p50_ms: percentile(d.latencies, 50),
      p90_ms: percentile(d.latencies, 90),
    })),
    totals: {
      calls: calls.length,
      minutes: round1(calls.reduce((sum, c) => sum + minutesOf(c), 0)),
      turns,
      p50_ms: percentile(all, 50),
      p90_ms: percentile(all, 90),
    },
    end_reasons: [...reasons]
      .map(([reason, n]) => ({ reason, calls: n }))
      .sort((a, b) => b.calls - a.calls || a.reason.localeCompare(b.reason)),
    variants: [...variants].map(([variant, v]) => ({
      variant,
      calls: v.calls,
      minutes: round1(v.minutes),
      p50_ms: percentile(v.latencies, 50),
    })),
  };
}
