import app from "../src/index.ts";
import { errorFields, log } from "../src/log.ts";
import { CONSOLE_PREPARATIONS } from "./worker-console.ts";
import { HISTORY_OPERATIONS } from "./worker-history.ts";
import { OPERATIONS, type OpInput, PREPARATIONS } from "./worker-ops.ts";
import { ROUTING_OPERATIONS, ROUTING_PREPARATIONS } from "./worker-routing.ts";

/**
 * The bench-only Worker (bench/wrangler.bench.toml): the real app, unchanged, plus timing
 * routes under /__bench/* that production (src/index.ts) never serves:
 *   GET  /__bench/empty                 an empty response: the runtime's floor
 *   POST /__bench/answered?bytes=N      reads the request, answers N bytes: carrying an answer, no work
 *   GET  /__bench/echo                  a WebSocket echoing each message: the runtime's socket round trip
 *   GET  /__bench/op/<name>?n=N&...     run an operation N times (bench/worker-ops.ts)
 *   POST /__bench/prepare/<name>?...    put the caches and stores in the state an operation expects
 */

export { CallLog, CallSession, MongoConfigStore } from "../src/index.ts";
// Production's store object plus the write without history that issue 9's bench row compares with.
export { EmbeddedConfigStore } from "./worker-history.ts";

async function benchRoute(request: Request, url: URL, env: Env, ctx: ExecutionContext): Promise<Response> {
  if (url.pathname === "/__bench/empty") return new Response(null, { status: 204 });
  if (url.pathname === "/__bench/answered") return answered(request, url);
  if (url.pathname === "/__bench/echo") return echoSocket(request);
  const match = /^\/__bench\/(op|prepare)\/([a-z-]+)$/.exec(url.pathname);
  const table =
    match?.[1] === "op"
      ? { ...OPERATIONS, ...HISTORY_OPERATIONS, ...ROUTING_OPERATIONS }
      : { ...PREPARATIONS, ...CONSOLE_PREPARATIONS, ...ROUTING_PREPARATIONS };
  const name = match?.[2] ?? "";
  const run = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!run) return Response.json({ error: `no bench route ${url.pathname}` }, { status: 404 });
  const n = Number(url.searchParams.get("n") ?? "0");
  if (!Number.isInteger(n) || n < 0)
    return Response.json({ error: "n must be a whole number" }, { status: 400 });
  try {
    const text = request.method === "POST" ? await request.text() : "";
    const input: OpInput = {
      env,
      ctx,
      n,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
    };
    const done = await run(input);
    return Response.json({ name, n, ...(typeof done === "string" && { done }) });
  } catch (err) {
    log.error("bench_route_failed", { route: url.pathname, ...errorFields(err) });
    return Response.json({ error: errorFields(err).error }, { status: 500 });
  }
}

/**
 * The empty route that still takes the request and answers like a webhook: reads the body, and
 * answers `bytes` (query) bytes of text/xml with a request id, as the app's TwiML answer is sent.
 * What the runtime and wrangler's proxy charge for carrying a request and its answer, with no
 * work done between them.
 */
async function answered(request: Request, url: URL): Promise<Response> {
  await request.arrayBuffer();
  const bytes = Number(url.searchParams.get("bytes") ?? "0");
  return new Response(" ".repeat(bytes), {
    headers: { "Content-Type": "text/xml; charset=utf-8", "X-Request-Id": crypto.randomUUID() },
  });
}

/** A WebSocket that sends every text message straight back: the runtime's own round trip. */
function echoSocket(request: Request): Response {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket")
    return new Response("expected a WebSocket upgrade", { status: 426 });
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  server.accept();
  server.addEventListener("message", (event) => server.send(event.data));
  return new Response(null, { status: 101, webSocket: client });
}

export default {
  fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/__bench/")) return benchRoute(request, url, env, ctx);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
