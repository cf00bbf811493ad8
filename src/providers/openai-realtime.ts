import type { RealtimeClientEvent, RealtimeServerEvent } from "openai/resources/realtime/realtime";
import type { Base64Mulaw } from "../audio/mulaw-audio.ts";

/**
 * A WebSocket to OpenAI's Realtime API (the GA interface: no `OpenAI-Beta` header), opened with
 * a fetch upgrade so the API key travels in the Authorization header, as on a server it should.
 * The URL is OPENAI_BASE_URL's origin and path with `/realtime?model=<model>` appended: for the
 * default base that is wss://api.openai.com/v1/realtime?model=gpt-realtime.
 * Events in both directions are the `openai` SDK's realtime types.
 */

export interface RealtimeConnectOptions {
  apiKey: string;
  /** e.g. "https://api.openai.com/v1" (settings: OPENAI_BASE_URL); ws(s) works too */
  baseUrl: string;
  model: string;
  /**
   * aborts the handshake (the engine's 3 s open limit). It must not abort once the socket is
   * open: in workerd that would cut the socket too.
   */
  signal?: AbortSignal;
}

export interface RealtimeConnection {
  send(event: RealtimeClientEvent): void;
  /**
   * `input_audio_buffer.append` with this audio: the same event as `send` would write, built
   * as a template around the base64 text (50 a second per call, so no object and no stringify).
   */
  appendAudio(audio: Base64Mulaw): void;
  close(): void;
}

export interface RealtimeHandlers {
  event(event: RealtimeServerEvent): void;
  /** The socket closed without our asking (or failed): `reason` says how. */
  closed(reason: string): void;
}

/** Thrown when the Realtime socket cannot be opened; `status` is the handshake's HTTP status, if any. */
export class RealtimeConnectError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "RealtimeConnectError";
    this.status = status;
  }
}

/** The handshake URL: http(s) for fetch's upgrade, whichever scheme the base URL was given with. */
export function realtimeUrl(baseUrl: string, model: string): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/realtime`);
  url.protocol = url.protocol === "ws:" || url.protocol === "http:" ? "http:" : "https:";
  url.searchParams.set("model", model);
  return url.toString();
}

/**
 * Opens the socket and wires `handlers`. Throws RealtimeConnectError if the server refuses the
 * upgrade or the signal aborts first; the API key never appears in the error.
 */
export async function connectRealtime(
  options: RealtimeConnectOptions,
  handlers: RealtimeHandlers,
): Promise<RealtimeConnection> {
  let response: Response;
  try {
    response = await fetch(realtimeUrl(options.baseUrl, options.model), {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${options.apiKey}` },
      ...(options.signal && { signal: options.signal }),
    });
  } catch (err) {
    const timedOut = options.signal?.aborted;
    throw new RealtimeConnectError(
      timedOut ? "the Realtime socket did not open in time" : "the Realtime API could not be reached",
      undefined,
      { cause: err },
    );
  }
  const ws = response.webSocket;
  if (response.status !== 101 || !ws) {
    const body = (await response.text().catch(() => ""))
      .slice(0, 300)
      .replaceAll(options.apiKey, "[redacted]");
    throw new RealtimeConnectError(
      `the Realtime API refused the socket: ${response.status} ${body}`,
      response.status,
    );
  }
  ws.accept();
  let closing = false;
  ws.addEventListener("message", (message) => {
    if (typeof message.data !== "string") return;
    let event: RealtimeServerEvent;
    try {
      event = JSON.parse(message.data) as RealtimeServerEvent;
    } catch {
      return;
    }
    handlers.event(event);
  });
  ws.addEventListener("close", (close) => {
    if (!closing) handlers.closed(`closed by the server: ${close.code} ${close.reason}`.trim());
    closing = true;
  });
  ws.addEventListener("error", () => {
    if (!closing) handlers.closed("socket error");
    closing = true;
  });
  return {
    send: (event) => ws.send(JSON.stringify(event)),
    // The base64 alphabet needs no escaping inside a JSON string.
    appendAudio: (audio) => ws.send(`{"type":"input_audio_buffer.append","audio":"${audio}"}`),
    close: () => {
      if (closing) return;
      closing = true;
      try {
        ws.close(1000, "call ended");
      } catch {
        // Already closed by the other side: nothing left to close.
      }
    },
  };
}
