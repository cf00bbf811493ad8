/** Summaries of measured samples: nearest-rank percentiles, no interpolation. */

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of already sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of no samples");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

export function median(samples: readonly number[]): number {
  return summarize(samples).median;
}

/**
 * A throughput ratio's interval: `pooled` (route req/s over floor req/s, all windows added up)
 * ± two standard errors, about 95% from some 20 rounds on (with 8 the t quantile is 2.36, not 2).
 * `rounds` holds each round's own ratio (its route window's req/s over its floor window's). The
 * error is their natural logarithms' sample standard deviation over √rounds, since a
 * throughput ratio's noise is multiplicative. Returns [low, high], as ratios. Throws with fewer
 * than two rounds (no spread to see).
 */
export function ratioInterval(pooled: number, rounds: readonly number[]): [number, number] {
  if (rounds.length < 2) throw new Error("a ratio's interval needs at least two rounds");
  const logs = rounds.map(Math.log);
  const mean = logs.reduce((sum, v) => sum + v, 0) / logs.length;
  const sd = Math.sqrt(logs.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (logs.length - 1));
  const twoSe = (2 * sd) / Math.sqrt(logs.length);
  return [pooled * Math.exp(-twoSe), pooled * Math.exp(twoSe)];
}
