import { errorFields, type Logger } from "../log.ts";

/**
 * The call's WebSockets (Twilio's Media Stream, or the console's browser test call), accepted by
 * the CallSession as regular sockets, not through the Hibernation API.
 *
 * Why not hibernatable: Twilio sends a 20 ms frame for the whole call, silence included
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages#media-message), so a call's
 * object is never idle long enough to hibernate, while the Hibernation API delivers every message
 * as its own invocation of the object, which cost about a tenth more workerd CPU per call-second
 * (`npm run bench:voice`, README's Benchmarks). The trades: an open socket keeps the object in
 * memory, so the runtime does not evict it mid-call (a restart, a deploy, drops Twilio's stream,
 * and Twilio's status callback then ends the call with the turns it logged); and on Cloudflare
 * the object is billed for duration for the whole call, where a hibernatable one idle between
 * frames is not (https://developers.cloudflare.com/durable-objects/platform/pricing/; README's
 * "Eviction" has the figure).
 */

/** What the session does with its sockets' events. */
export interface SocketHandlers {
  /** One text (Twilio) or binary (browser) message, in arrival order. */
  message(ws: WebSocket, data: string | ArrayBuffer): Promise<void>;
  /** The socket closed (`code` as received, 1006 when it dropped) or failed. */
  closed(ws: WebSocket, code: number): Promise<void>;
  /** the call's logger (every line carries call_sid once the call has one) */
  log(): Logger;
}

/** Close codes a peer may receive but an endpoint must not send (RFC 6455 §7.4.1). */
const RESERVED_CLOSE_CODES = new Set([1005, 1006, 1015]);

export class CallSockets {
  private readonly open = new Set<WebSocket>();
  private readonly handlers: SocketHandlers;

  constructor(handlers: SocketHandlers) {
    this.handlers = handlers;
  }

  /** How many of the call's sockets are open. */
  get size(): number {
    return this.open.size;
  }

  /** Accepts a new socket for the call: the 101 answer to the upgrade request. */
  accept(): Response {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    // Binary messages (the browser's audio) as ArrayBuffer: with the standard binaryType a
    // regular socket would hand them over as Blob.
    server.binaryType = "arraybuffer";
    this.open.add(server);
    server.addEventListener("message", (event) => {
      this.settle(this.handlers.message(server, event.data), "stream_message_failed");
    });
    server.addEventListener("close", (event) => this.ended(server, event.code));
    server.addEventListener("error", (event) => {
      // After the call closed the socket itself, the connection's end is expected, not a drop.
      if (!this.open.has(server)) return;
      this.handlers.log().warn("stream_socket_error", { ...errorFields(event.error) });
      this.ended(server, 1006);
    });
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Closes every open socket of the call (`code` 1000: normal closure). */
  closeAll(code: number, reason: string): void {
    for (const ws of this.open) ws.close(code, reason);
    this.open.clear();
  }

  /** The peer closed (or the socket failed): answer the close, once, and tell the session. */
  private ended(ws: WebSocket, code: number): void {
    if (!this.open.delete(ws)) return;
    // The runtime answers a peer's close itself; a socket that failed is still open here.
    if (ws.readyState === WebSocket.OPEN) ws.close(RESERVED_CLOSE_CODES.has(code) ? 1000 : code, "closing");
    this.settle(this.handlers.closed(ws, code), "stream_close_failed");
  }

  /**
   * A handler's promise: the runtime does not wait on event listeners, so a failure is logged
   * here with the call's call_sid rather than left as an uncaught rejection.
   */
  private settle(work: Promise<void>, event: string): void {
    work.catch((err: unknown) => this.handlers.log().error(event, { ...errorFields(err) }));
  }
}
