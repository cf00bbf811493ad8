import { Agent, request } from "node:http";

/**
 * A keep-alive HTTP/1.1 client for loopback measurements: node:http with a bounded socket
 * pool, so every timed request reuses a warm connection and the load generator itself stays
 * cheap (no fetch/undici machinery per request).
 */

export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Reply {
  status: number;
  body: string;
  /** wall time from sending to the last byte of the body */
  ms: number;
}

/** The server had closed the idle kept-alive socket the request went out on. */
class StaleSocketError extends Error {}

export class HttpClient {
  readonly base: URL;
  private readonly agent: Agent;

  constructor(base: URL, maxSockets: number) {
    this.base = base;
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /**
   * One request. A kept-alive socket the server closed while idle fails at once with ECONNRESET
   * before the server read anything; that request is sent again once on a new socket, as the
   * node:http docs advise.
   */
  async send(spec: RequestSpec): Promise<Reply> {
    try {
      return await this.attempt(spec);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return this.attempt(spec);
    }
  }

  private attempt(spec: RequestSpec): Promise<Reply> {
    const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(
        {
          agent: this.agent,
          hostname: this.base.hostname,
          port: this.base.port,
          method: spec.method,
          path: spec.path,
          headers: { ...spec.headers, ...(body && { "Content-Length": String(body.length) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString("utf8"),
              ms: performance.now() - started,
            }),
          );
          res.on("error", (err) =>
            reject(new Error(`${spec.method} ${spec.path}: reading the response failed`, { cause: err })),
          );
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && err.code === "ECONNRESET";
        const Failure = stale ? StaleSocketError : Error;
        reject(new Failure(`${spec.method} ${spec.path} failed`, { cause: err }));
      });
      req.end(body);
    });
  }

  /** Like send, but a status other than 2xx is an error naming the route and the body. */
  async expectOk(spec: RequestSpec): Promise<Reply> {
    const reply = await this.send(spec);
    if (reply.status < 200 || reply.status >= 300) {
      throw new Error(`${spec.method} ${spec.path} answered ${reply.status}: ${reply.body.slice(0, 300)}`);
    }
    return reply;
  }

  close(): void {
    this.agent.destroy();
  }
}
