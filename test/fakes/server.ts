import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Behavior, RecordedRequest } from "./types.ts";

export type { Behavior, RecordedRequest };

/**
 * The frame every fake provider server shares: a real HTTP server on 127.0.0.1 that records
 * what it receives and can be told to fail. Test files run in parallel against one server, so
 * each works in its own namespace: every URL may start with `/ns/<id>`, and records, behaviour
 * and the fake's own state (say, a collection) are kept per namespace. Tests (inside workerd)
 * drive it over HTTP (test/fakes/client.ts):
 *   GET  [/ns/<id>]/__fake/requests  -> RecordedRequest[]
 *   POST [/ns/<id>]/__fake/reset     -> clears records, behaviour and state
 *   POST [/ns/<id>]/__fake/behavior  -> Behavior, applied to the next matching requests
 */
/** Per-namespace scratch state a fake may keep (for example an in-memory collection). */
export type NamespaceState = Map<string, unknown>;

export type Handler = (
  req: RecordedRequest,
  res: ServerResponse,
  state: NamespaceState,
) => void | Promise<void>;

interface Namespace {
  records: RecordedRequest[];
  behaviors: Behavior[];
  state: NamespaceState;
}

export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

export async function startFakeServer(name: string, handle: Handler): Promise<FakeServer> {
  const namespaces = new Map<string, Namespace>();
  const namespace = (id: string): Namespace => {
    let ns = namespaces.get(id);
    if (!ns) {
      ns = { records: [], behaviors: [], state: new Map() };
      namespaces.set(id, ns);
    }
    return ns;
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://fake");
      const match = /^\/ns\/([^/]+)(\/.*)?$/.exec(url.pathname);
      const ns = namespace(match?.[1] ?? "");
      const path = match ? (match[2] ?? "/") : url.pathname;
      if (path === "/__fake/requests") return json(res, 200, ns.records);
      if (path === "/__fake/reset") {
        namespaces.delete(match?.[1] ?? "");
        return json(res, 200, { ok: true });
      }
      if (path === "/__fake/behavior") {
        ns.behaviors.push(JSON.parse(raw.toString("utf8")) as Behavior);
        return json(res, 200, { ok: true });
      }
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]),
        ),
        body: raw.toString("utf8"),
        bodyBase64: raw.toString("base64"),
        at: Date.now(),
      };
      ns.records.push(recorded);
      const behavior = ns.behaviors.find((b) => !b.pathIncludes || path.includes(b.pathIncludes));
      if (behavior) {
        if (behavior.times !== undefined && --behavior.times <= 0)
          ns.behaviors.splice(ns.behaviors.indexOf(behavior), 1);
        if (behavior.delayMs) await new Promise((r) => setTimeout(r, behavior.delayMs));
        if (behavior.status) {
          res.writeHead(behavior.status, { "content-type": "application/json", ...behavior.headers });
          return res.end(behavior.body ?? JSON.stringify({ error: { message: `${name} fake failure` } }));
        }
      }
      await handle(recorded, res, ns.state);
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: { message: `${name} fake crashed: ${String(err)}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error(`${name} fake did not bind`);
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
