import {
  type AnalyticsGroup,
  daysBetween,
  finish,
  mergeGroups,
  type PartialGroup,
} from "../../call/analytics.ts";
import { queryAnalytics } from "../../call/call-log-reads.ts";

/**
 * The analytics page's figures, from the same per-shard computation as GET /admin/analytics
 * (src/call/analytics.ts, over every ended call's stored facts): calls and minutes per day,
 * end reasons, p50/p90 per-turn latency per day, and per-variant figures where calls carry a
 * variant. Per-turn latency is STT + LLM + TTS in turns mode, end of speech to first frame in
 * stream mode, in ms. Days are UTC.
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

const minutes = (g: AnalyticsGroup) => Math.round((g.duration_seconds.total / 60) * 10) / 10;

/**
 * The page's figures from the API's partial groups by day and by variant (UTC days from
 * `since` to `until`, inclusive, quiet days as zero).
 */
export function pageFigures(
  byDay: PartialGroup[],
  byVariant: PartialGroup[],
  since: string,
  until: string,
): Analytics {
  const days = finish(byDay, daysBetween(since, until));
  // Every day's groups as one: the totals and end reasons of the range.
  const merged = mergeGroups([byDay.map((g) => ({ ...g, key: null }))]);
  const all = finish(merged, [null])[0] as AnalyticsGroup;
  return {
    days: days.map((d) => ({
      day: d.key as string,
      calls: d.calls,
      minutes: minutes(d),
      p50_ms: d.turn_latency_ms.p50,
      p90_ms: d.turn_latency_ms.p90,
    })),
    totals: {
      calls: all.calls,
      minutes: minutes(all),
      turns: merged[0]?.turns_total ?? 0,
      p50_ms: all.turn_latency_ms.p50,
      p90_ms: all.turn_latency_ms.p90,
    },
    end_reasons: Object.entries(all.end_reasons)
      .map(([reason, calls]) => ({ reason, calls }))
      .sort((a, b) => b.calls - a.calls || a.reason.localeCompare(b.reason)),
    variants: finish(byVariant, null)
      .filter((g) => g.key !== null)
      .map((g) => ({
        variant: g.key as string,
        calls: g.calls,
        minutes: minutes(g),
        p50_ms: g.turn_latency_ms.p50,
      })),
  };
}

/** One number's figures (E.164, or null for every number) between two UTC days, inclusive. */
export async function analyticsFor(
  env: Env,
  phone: string | null,
  since: string,
  until: string,
): Promise<Analytics> {
  const range = {
    timezone: "UTC",
    from: `${since}T00:00:00.000Z`,
    to: new Date(Date.parse(`${until}T00:00:00Z`) + 86_400_000).toISOString(),
  };
  const [byDay, byVariant] = await Promise.all([
    queryAnalytics(env, phone, { ...range, groupBy: "day" }),
    queryAnalytics(env, phone, { ...range, groupBy: "variant" }),
  ]);
  return pageFigures(byDay.groups, byVariant.groups, since, until);
}
