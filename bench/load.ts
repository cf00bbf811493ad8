import type { HttpClient, Reply, RequestSpec } from "./http.ts";
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
  errors: number;
  firstError?: string;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { client, concurrency, next, check } = options;
  const warmupEnds = performance.now() + options.warmupMs;
  const ends = warmupEnds + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;
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
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    latencyMs: summarize(latencies),
    errors,
    ...(firstError !== undefined && { firstError }),
  };
}
