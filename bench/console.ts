import type { LoadResult } from "./load.ts";
import { runLoad } from "./load.ts";
import type { Profile } from "./profile.ts";
import { fmtMs, loadData, type Row } from "./report.ts";
import { ADMIN_API_KEY, type Stack } from "./stack.ts";

/**
 * Issue 13 (the console): how long its two heaviest pages take to serve on local workerd, the
 * numbers page with 1,000 numbers and the calls page with 10,000 calls in the log, one request
 * at a time (latency, not throughput), against the empty-response floor measured in the same
 * run with the same single connection.
 */

export const CONSOLE_NUMBERS = 1000;
export const CONSOLE_CALLS = 10_000;

/** Signs in through the console's form, as a browser would; returns the Cookie header to send. */
export async function consoleCookie(base: string): Promise<string> {
  const form = await fetch(`${base}/dashboard/sign-in`);
  const loginCookie = form.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!token) throw new Error("the sign-in page has no CSRF token");
  const signedIn = await fetch(`${base}/dashboard/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { Cookie: loginCookie, Origin: base, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, key: ADMIN_API_KEY }),
  });
  const session = signedIn.headers.getSetCookie().find((c) => c.startsWith("console_session="));
  if (signedIn.status !== 303 || !session) throw new Error(`console sign-in answered ${signedIn.status}`);
  return session.split(";")[0] ?? "";
}

async function prepare(stack: Stack, name: string, count: number): Promise<void> {
  await stack.client.expectOk({ method: "POST", path: `/__bench/prepare/${name}?count=${count}` });
}

function pageRow(
  measurement: string,
  page: LoadResult,
  floor: LoadResult,
  bytes: number,
  firstMs: number,
): Row {
  return {
    issue: "13",
    measurement,
    value: `p50 ${fmtMs(page.latencyMs.median)} · p99 ${fmtMs(page.latencyMs.p99)}`,
    baseline: `empty response p50 ${fmtMs(floor.latencyMs.median)}`,
    notes: `one request at a time, ${page.requests} requests; ${Math.round(bytes / 1024)} KiB of HTML; first load ${fmtMs(firstMs)} (not counted)`,
    data: { page: loadData(page), floor: loadData(floor), html_bytes: bytes, first_load_ms: firstMs },
  };
}

/**
 * The page's first request, outside any measured window: it warms the isolate, the stores'
 * Durable Objects and their SQLite pages, which can take longer than the whole window on a busy
 * machine. Resolves to its time (ms); throws, naming the request and its time, if it fails or
 * takes over FIRST_REQUEST_LIMIT_MS.
 */
async function firstRequest(stack: Stack, path: string, cookie: string, expect: RegExp): Promise<number> {
  const reply = await stack.client.send({ method: "GET", path, headers: { Cookie: cookie } });
  const what = `the first GET ${path} (not measured)`;
  if (reply.status !== 200) throw new Error(`${what} answered ${reply.status} after ${fmtMs(reply.ms)}`);
  if (!expect.test(reply.body)) throw new Error(`${what} did not show ${expect}`);
  if (reply.ms > FIRST_REQUEST_LIMIT_MS) {
    throw new Error(
      `${what} took ${fmtMs(reply.ms)}, over ${FIRST_REQUEST_LIMIT_MS} ms: far too slow to measure`,
    );
  }
  return reply.ms;
}

/** A first page load slower than this is a failure in itself, not a warm-up. */
const FIRST_REQUEST_LIMIT_MS = 30_000;

export async function consoleRows(stack: Stack, profile: Profile): Promise<Row[]> {
  await prepare(stack, "console-numbers", CONSOLE_NUMBERS);
  await prepare(stack, "console-calls", CONSOLE_CALLS);
  const cookie = await consoleCookie(stack.base);
  const serial = { ...profile.load, concurrency: 1 };
  const floor = await runLoad({
    client: stack.client,
    ...serial,
    next: () => ({ method: "GET", path: "/__bench/empty" }),
  });
  const measure = async (path: string, expect: RegExp) => {
    const firstMs = await firstRequest(stack, path, cookie, expect);
    let bytes = 0;
    const result = await runLoad({
      client: stack.client,
      ...serial,
      next: () => ({ method: "GET", path, headers: { Cookie: cookie } }),
      check: (reply) => {
        bytes = reply.body.length;
        return expect.test(reply.body) ? null : `the page did not show ${expect}`;
      },
    });
    return { result, bytes, firstMs };
  };
  const numbers = await measure("/dashboard/numbers", /\d[\d,]* numbers, page 1 of \d+/);
  const calls = await measure("/dashboard/calls", /The latest 100 calls/);
  return [
    pageRow(
      `console: numbers page, ${CONSOLE_NUMBERS.toLocaleString("en")} numbers`,
      numbers.result,
      floor,
      numbers.bytes,
      numbers.firstMs,
    ),
    pageRow(
      `console: calls page, ${CONSOLE_CALLS.toLocaleString("en")} calls in the log`,
      calls.result,
      floor,
      calls.bytes,
      calls.firstMs,
    ),
  ];
}
