import type { HttpClient } from "./http.ts";
import { median, type Summary, summarize } from "./stats.ts";

/**
 * The cost of an operation inside the Worker, measured from Node by the difference method:
 * workerd freezes Date.now()/performance.now() while code runs (a Spectre mitigation), so an
 * operation cannot time itself. A request to /__bench/op/<name>?n=N runs it N times; its time
 * minus the median time of the same request with n=0 (same setup, same HTTP round trip) is the
 * cost of N operations. N is chosen so that difference is well above the round trip's jitter.
 * Each sample is one batch: the mean cost of N consecutive operations.
 */

export interface OpCostOptions {
  op: string;
  /** extra query parameters for the operation */
  query?: Record<string, string>;
  /** an untimed preparation before every timed request (POST /__bench/prepare/<name>) */
  prepare?: { name: string; query?: Record<string, string> };
  durationMs: number;
  /** calibration grows N until N operations take at least this long */
  targetBatchMs: number;
  maxN: number;
}

export interface OpCost {
  /** per operation, in microseconds: one sample per batch */
  perOpUs: Summary;
  n: number;
  batches: number;
  /** median time of the n=0 request (ms): setup plus the HTTP round trip */
  floorMs: number;
}

const qs = (params: Record<string, string>) => new URLSearchParams(params).toString();

export async function opCost(client: HttpClient, options: OpCostOptions): Promise<OpCost> {
  const timed = async (n: number): Promise<number> => {
    if (options.prepare) {
      await client.expectOk({
        method: "POST",
        path: `/__bench/prepare/${options.prepare.name}?${qs(options.prepare.query ?? {})}`,
      });
    }
    const reply = await client.expectOk({
      method: "GET",
      path: `/__bench/op/${options.op}?${qs({ ...options.query, n: String(n) })}`,
    });
    return reply.ms;
  };

  // Warm the isolate and the connection, then calibrate N.
  for (let i = 0; i < 3; i++) await timed(1);
  let n = 1;
  for (;;) {
    const floor = median([await timed(0), await timed(0), await timed(0)]);
    const batch = median([await timed(n), await timed(n), await timed(n)]);
    const spent = batch - floor;
    if (spent >= options.targetBatchMs || n >= options.maxN) break;
    const factor = spent > 0.05 ? Math.ceil(options.targetBatchMs / spent) : 10;
    n = Math.min(options.maxN, n * Math.max(2, factor));
  }

  // Alternate n=0 and n=N so drift (thermal, other processes) hits both alike.
  const floors: number[] = [];
  const batches: number[] = [];
  const ends = performance.now() + options.durationMs;
  while (performance.now() < ends || batches.length < 5) {
    floors.push(await timed(0));
    batches.push(await timed(n));
  }
  const floorMs = median(floors);
  return {
    perOpUs: summarize(batches.map((ms) => ((ms - floorMs) / n) * 1000)),
    n,
    batches: batches.length,
    floorMs,
  };
}
