import { APIError } from "openai";

/**
 * One retry inside a turn, only when the provider says when: a 429 or 5xx whose `retry-after-ms`
 * or `retry-after` header asks for at most RETRY_AFTER_MAX_MS. A longer wait is dead air the
 * caller would notice, so that failure goes straight to the apology; an answer without the
 * header is not retried either (a failing server, not a busy one).
 *
 * Headers: `retry-after` is RFC 9110 §10.2.3 (seconds or an HTTP date); `retry-after-ms` is
 * OpenAI's (https://platform.openai.com/docs/guides/rate-limits), read first as the SDK does.
 */
export const RETRY_AFTER_MAX_MS = 1500;

/** The wait the provider asked for before a retry (ms), or null when this failure is final. */
export function retryDelayMs(err: unknown, now: number = Date.now()): number | null {
  if (!(err instanceof APIError) || err.status === undefined) return null;
  if (err.status !== 429 && err.status < 500) return null;
  const wait = askedWaitMs(err.headers, now);
  return wait !== null && wait <= RETRY_AFTER_MAX_MS ? wait : null;
}

function askedWaitMs(headers: Headers | undefined, now: number): number | null {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get("retry-after")?.trim();
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Runs `request`; if it fails with a short retry-after, waits that long and runs it once more.
 * The wait ends early (rethrowing the first failure) when `signal` aborts: a hang-up or the
 * caller's budget running out.
 */
export async function withRetryAfter<T>(signal: AbortSignal, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    const wait = retryDelayMs(err);
    if (wait === null || signal.aborted) throw err;
    const waited = await sleep(wait, signal);
    if (!waited) throw err;
    return request();
  }
}

/** true after `ms`, false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(slept);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
