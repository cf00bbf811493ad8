import type { EndReason } from "../call/summary.ts";
import { verify } from "../call/tokens.ts";
import { errorFields, type Logger } from "../log.ts";
import { clearMessage, markMessage, mediaMessage, parseStreamMessage } from "../twilio/media-stream.ts";
import type { ConversationEngine, EngineFactory, OutboundAudio } from "./engine.ts";

/**
 * Twilio's side of a stream-mode call: the Media Stream's JSON in and out. It checks the
 * one-time token of the `start` message, feeds the engine the caller's μ-law and the marks
 * Twilio echoes, and turns the engine's audio, marks and clears into Twilio messages. The
 * call session hands it the socket and builds the engine; neither sees Twilio's JSON.
 */

/** Persisted with the call (so a woken Durable Object finds its stream again). */
export interface MediaStreamState {
  streamSid: string | null;
  /** the start token is good once: a replayed `start` is refused */
  tokenUsed: boolean;
}

/** The most μ-law one outbound `media` message carries: 1 s at 8 kHz. */
const MAX_MEDIA_BYTES = 8000;

export interface MediaStreamHost {
  readonly callSid: string;
  /** the key the start token was signed with (src/call/tokens.ts) */
  readonly signingSecret: string;
  stream(): MediaStreamState;
  /** Persist `stream()` after a change. */
  save(): void;
  engine: EngineFactory;
  /** Twilio stopped the stream: the call is over. */
  stopped(reason: EndReason): Promise<void>;
  /** the call's logger (every line carries call_sid) */
  log(): Logger;
}

/**
 * A `start` message's CallSid and <Stream> <Parameter>s, or null for any other message: what a
 * call's object reads before it holds a call (its session is created from a `start`).
 */
export function streamStart(
  message: string | ArrayBuffer,
): { callSid: string; parameters: Record<string, string> } | null {
  const event = parseStreamMessage(typeof message === "string" ? message : new TextDecoder().decode(message));
  return event.kind === "start" ? { callSid: event.callSid, parameters: event.customParameters } : null;
}

export class MediaStreamSession {
  private readonly ws: WebSocket;
  private readonly host: MediaStreamHost;
  private current: ConversationEngine | null = null;
  /** frames from the engine not sent yet (see send) */
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(ws: WebSocket, host: MediaStreamHost) {
    this.ws = ws;
    this.host = host;
  }

  /** One message from Twilio. Never throws for a malformed one: it is logged and skipped. */
  async receive(message: string | ArrayBuffer): Promise<void> {
    const event = parseStreamMessage(
      typeof message === "string" ? message : new TextDecoder().decode(message),
    );
    switch (event.kind) {
      case "invalid":
        this.host.log().warn("stream_message_skipped", { reason: event.reason });
        return;
      case "start":
        await this.start(event.streamSid, event.callSid, event.customParameters.token ?? "");
        return;
      case "media":
        if (event.track === "inbound") this.engine()?.pushAudio(event.payload);
        return;
      case "mark":
        this.engine()?.markPlayed(event.name);
        return;
      case "stop":
        await this.host.stopped("completed");
        return;
      default:
        return;
    }
  }

  /** The call is over: stop the engine and wait for it to report its last turn. */
  async close(): Promise<void> {
    const engine = this.current;
    this.current = null;
    if (engine) {
      engine.close();
      await engine.idle();
    }
  }

  private async start(streamSid: string, callSid: string, token: string): Promise<void> {
    const stream = this.host.stream();
    const [expires, signature] = token.split(".");
    const check =
      callSid === this.host.callSid && !stream.tokenUsed
        ? await verify(this.host.signingSecret, "stream", callSid, Number(expires), signature ?? "")
        : ({ ok: false, reason: "bad_signature" } as const);
    if (!check.ok) {
      this.host.log().warn("stream_refused", { reason: stream.tokenUsed ? "token_reused" : check.reason });
      this.ws.close(1008, "invalid stream token");
      return;
    }
    stream.streamSid = streamSid;
    stream.tokenUsed = true;
    this.host.save();
    const engine = this.engine();
    if (!engine) return;
    this.host.log().info("stream_started", { stream_sid: streamSid });
    await engine.greet();
  }

  /** The call's engine, built once the stream has started (and rebuilt after an eviction). */
  private engine(): ConversationEngine | null {
    const streamSid = this.host.stream().streamSid;
    if (!streamSid) return null;
    this.current ??= this.host.engine({ send: (out) => this.send(streamSid, out) });
    return this.current;
  }

  /**
   * The engine's 20 ms frames of bytes leave as one `media` message per burst (what it produced
   * in one go, up to MAX_MEDIA_BYTES): Twilio plays a payload of any length, and a message per
   * frame costs the runtime and Twilio fifty messages a second per call. Audio that is already
   * base64 (the realtime model's deltas) goes out as it came, one message each. A mark or a
   * clear first sends (or, for a clear, drops) the frames before it, so order is kept.
   */
  private send(streamSid: string, out: OutboundAudio): void {
    if (out.kind === "media") {
      const { mulaw } = out;
      if (typeof mulaw === "string") {
        this.flush(streamSid);
        this.write(streamSid, mediaMessage(streamSid, mulaw));
        return;
      }
      this.pending.push(mulaw);
      this.pendingBytes += mulaw.length;
      if (this.pendingBytes >= MAX_MEDIA_BYTES) this.flush(streamSid);
      else if (this.pending.length === 1) queueMicrotask(() => this.flush(streamSid));
      return;
    }
    if (out.kind === "clear") {
      this.pending.length = 0;
      this.pendingBytes = 0;
    } else {
      this.flush(streamSid);
    }
    this.write(streamSid, out.kind === "mark" ? markMessage(streamSid, out.name) : clearMessage(streamSid));
  }

  private flush(streamSid: string): void {
    if (this.pending.length === 0) return;
    const payload = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const frame of this.pending) {
      payload.set(frame, at);
      at += frame.length;
    }
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.write(streamSid, mediaMessage(streamSid, payload));
  }

  private write(streamSid: string, message: string): void {
    try {
      this.ws.send(message);
    } catch (err) {
      // The socket closed under us; webSocketClose finalises the call.
      this.host.log().warn("stream_send_failed", { stream_sid: streamSid, ...errorFields(err) });
    }
  }
}
