import type { HttpClient, Reply, RequestSpec } from "./http.ts";
import { workerdCpuMs } from "./process-cpu.ts";
import { type Summary, summarize } from "./stats.ts";

/**
 * A closed-loop load generator: `concurrency` workers each send a request, wait for the whole
 * answer, and send the next, over keep-alive connections, for a fixed time. A warm-up period
 * runs first and is not counted. It stops by itself; requests still in flight at the end are
 * awaited and counted only if they started inside the measured window, which then ends with
 * the last of them.
 */

export interface LoadOptions {
  client: HttpClient;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** the next request to send (called once per request) */
  next: () => RequestSpec;
  /** why a 2xx answer is still wrong, or null when it is right */
  check?: (reply: Reply) => string | null;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: Summary;
  /** every counted request's latency (ms), in completion order */
  latencies: number[];
  /** requests answered in all, warm-up included (what the Worker's CPU time was spent on) */
  answered: number;
  errors: number;
  firstError?: string;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { client, concurrency, next, check } = options;
  const warmupEnds = performance.now() + options.warmupMs;
  const ends = warmupEnds + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;
  let answered = 0;
  let lastDone = warmupEnds;
  let firstError: string | undefined;
  // The slowest request that was not counted, for the error when none was.
  let slowest: { what: string; ms: number } | undefined;

  const fail = (why: string) => {
    errors += 1;
    firstError ??= why;
  };

  const worker = async () => {
    while (performance.now() < ends) {
      const spec = next();
      const sentAt = performance.now();
      let reply: Reply;
      try {
        reply = await client.send(spec);
        answered += 1;
      } catch (err) {
        if (sentAt >= warmupEnds) fail(err instanceof Error ? err.message : String(err));
        continue;
      }
      if (sentAt < warmupEnds) {
        if (!slowest || reply.ms > slowest.ms)
          slowest = { what: `${spec.method} ${spec.path}`, ms: reply.ms };
        continue;
      }
      lastDone = Math.max(lastDone, performance.now());
      const problem =
        reply.status < 200 || reply.status >= 300
          ? `${spec.method} ${spec.path} answered ${reply.status}: ${reply.body.slice(0, 200)}`
          : (check?.(reply) ?? null);
      if (problem) fail(problem);
      else latencies.push(reply.ms);
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  // Up to the last answer counted: the requests that started just before the end finish after it.
  const seconds = (lastDone - warmupEnds) / 1000;
  if (latencies.length === 0) {
    const why =
      firstError ??
      (slowest
        ? `none was sent in the ${options.durationMs} ms window: ${slowest.what} took ${slowest.ms.toFixed(0)} ms (sent during the ${options.warmupMs} ms warm-up)`
        : "none was sent");
    throw new Error(`no request succeeded: ${why}`);
  }
  return loadResult({ latencies, seconds, answered, errors, firstError });
}

function loadResult(r: {
  latencies: number[];
  seconds: number;
  answered: number;
  errors: number;
  firstError: string | undefined;
}): LoadResult {
  return {
    requests: r.latencies.length,
    seconds: r.seconds,
    perSecond: r.latencies.length / r.seconds,
    latencyMs: summarize(r.latencies),
    latencies: r.latencies,
    answered: r.answered,
    errors: r.errors,
    ...(r.firstError !== undefined && { firstError: r.firstError }),
  };
}

/** A side of alternateLoads: its load, and the Worker's CPU per answered request when measured. */
export interface AlternateSide extends LoadResult {
  /** workerd's CPU time (all its processes, wrangler's proxy included) per answered request, ms */
  workerdCpuMsPerRequest: number | null;
  /** each round's window on its own, in round order (req/s) */
  roundsPerSecond: number[];
}

/**
 * Loads taken in turn, `rounds` windows each, each side's windows added up: on a shared
 * machine whose speed drifts, the sides meet the same conditions, and their ratios are steadier
 * than those of windows taken minutes apart. Every other round runs the sides in reverse
 * (A, B, C, C, B, A, ...), so no side always follows the same one. Returns the sides in order.
 */
export async function alternateLoads(loads: LoadOptions[], rounds: number): Promise<AlternateSide[]> {
  const sides = loads.map((options) => ({ options, results: [] as LoadResult[], cpuMs: 0 }));
  let cpuKnown = true;
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const before = workerdCpuMs();
      side.results.push(await runLoad(side.options));
      const after = workerdCpuMs();
      if (before === null || after === null) cpuKnown = false;
      else side.cpuMs += after - before;
    }
  }
  return sides.map((side) => {
    const load = combined(side.results);
    return {
      ...load,
      workerdCpuMsPerRequest: cpuKnown ? side.cpuMs / load.answered : null,
      roundsPerSecond: side.results.map((r) => r.perSecond),
    };
  });
}

function combined(results: LoadResult[]): LoadResult {
  return loadResult({
    latencies: results.flatMap((r) => r.latencies),
    seconds: results.reduce((sum, r) => sum + r.seconds, 0),
    answered: results.reduce((sum, r) => sum + r.answered, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
  });
}
