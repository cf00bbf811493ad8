import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { Behavior, RecordedRequest } from "./types.ts";

export type { Behavior, RecordedRequest };

/**
 * The frame every fake provider server shares: a real HTTP server on 127.0.0.1 that records
 * what it receives and can be told to fail. Test files run in parallel against one server, so
 * each works in its own namespace: every URL may start with `/ns/<id>`, and records, behaviour
 * and the fake's own state (say, a collection) are kept per namespace. Tests (inside workerd)
 * drive it over HTTP (test/fakes/client.ts):
 *   GET  [/ns/<id>]/__fake/requests  -> RecordedRequest[]
 *   DELETE [/ns/<id>]/__fake/requests -> forgets the records only (a long bench run's memory)
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

/** A WebSocket upgrade request, for a fake that also speaks WebSocket (the Realtime API). */
export interface UpgradeContext {
  req: RecordedRequest;
  state: NamespaceState;
  /** Records one message received on the socket, as a request with method "WS" and this path. */
  record(path: string, body: string): void;
  accept(): Promise<WebSocket>;
  refuse(status: number, body: unknown): void;
}

export type UpgradeHandler = (ctx: UpgradeContext) => void | Promise<void>;

interface Namespace {
  records: RecordedRequest[];
  behaviors: Behavior[];
  state: NamespaceState;
}

export interface FakeServer {
  url: string;
  close(): Promise<void>;
}

export async function startFakeServer(
  name: string,
  handle: Handler,
  upgrade?: UpgradeHandler,
): Promise<FakeServer> {
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
      const receivedAt = performance.now();
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? "/", "http://fake");
      const match = /^\/ns\/([^/]+)(\/.*)?$/.exec(url.pathname);
      const ns = namespace(match?.[1] ?? "");
      const path = match ? (match[2] ?? "/") : url.pathname;
      if (path === "/__fake/requests" && req.method === "DELETE") {
        ns.records.length = 0;
        return json(res, 200, { ok: true });
      }
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
        receivedAt,
      };
      ns.records.push(recorded);
      res.on("finish", () => {
        recorded.servedMs = performance.now() - receivedAt;
      });
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
  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const match = /^\/ns\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const ns = namespace(match?.[1] ?? "");
    const path = match ? (match[2] ?? "/") : url.pathname;
    const refuse = (status: number, body: unknown) => {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      );
    };
    if (!upgrade) return refuse(404, { error: { message: `${name} fake speaks no WebSocket` } });
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : String(v ?? "")]),
      ),
      body: "",
      bodyBase64: "",
      at: Date.now(),
    };
    ns.records.push(recorded);
    const behavior = ns.behaviors.find((b) => !b.pathIncludes || path.includes(b.pathIncludes));
    if (behavior) {
      if (behavior.times !== undefined && --behavior.times <= 0)
        ns.behaviors.splice(ns.behaviors.indexOf(behavior), 1);
      if (behavior.delayMs) await new Promise((r) => setTimeout(r, behavior.delayMs));
      if (behavior.status) {
        return refuse(behavior.status, behavior.body ?? { error: { message: `${name} fake failure` } });
      }
    }
    try {
      await upgrade({
        req: recorded,
        state: ns.state,
        record: (wsPath, body) =>
          ns.records.push({ ...recorded, method: "WS", path: wsPath, body, bodyBase64: "", at: Date.now() }),
        accept: () => new Promise((resolve) => sockets.handleUpgrade(req, socket, head, resolve)),
        refuse,
      });
    } catch (err) {
      refuse(500, { error: { message: `${name} fake crashed: ${String(err)}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error(`${name} fake did not bind`);
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
