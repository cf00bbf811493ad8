import { mulawBytes } from "../audio/mulaw-audio.ts";
import { FRAME_BYTES } from "../audio/telephony.ts";
import type { TurnRecord } from "../call/summary.ts";
import { errorFields } from "../log.ts";
import type { ConversationEngine, OutboundAudio, TurnProgress } from "./engine.ts";
import type { MediaStreamHost } from "./media-stream-session.ts";

/**
 * The console's browser test call as an audio source for the same conversation engines a phone
 * call gets: a second adapter beside the Media Stream one, with a wire format of its own.
 * The socket was authenticated by the console session before it reached the call's object.
 *
 * Browser → Worker: binary messages are the caller's 8 kHz μ-law (normally 160 bytes = 20 ms);
 * text messages are JSON `{"type":"start"}` (the line is open: greet), `{"type":"mark","name"}`
 * (everything sent before this mark has played) and `{"type":"stop"}` (hang up).
 * Worker → browser: binary messages are 20 ms μ-law frames of the agent's voice; text messages
 * are `{"type":"mark","name"}` (echo it once played), `{"type":"clear"}` (barge-in: drop what
 * has not played), `{"type":"progress", seq, transcript, reply}` (a turn under way: the caller's
 * words once known, the agent's reply so far) and `{"type":"turn", ...TurnRecord}` (the turn as
 * recorded, which replaces its progress in the live transcript).
 */

export type WebMessage = { type: "start" } | { type: "mark"; name: string } | { type: "stop" };

/** One text message from the browser; null when it is not one of ours. */
export function parseWebMessage(text: string): WebMessage | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; name?: unknown };
    if (m.type === "start" || m.type === "stop") return { type: m.type };
    if (m.type === "mark" && typeof m.name === "string" && m.name.length <= 64)
      return { type: "mark", name: m.name };
  } catch {
    // Not JSON: skipped below.
  }
  return null;
}

/** The id a web call's stream gets in MediaStreamState, so an evicted object resumes it. */
const WEB_STREAM_ID = "web";

export class WebAudioSession {
  private readonly ws: WebSocket;
  private readonly host: MediaStreamHost;
  private current: ConversationEngine | null = null;

  constructor(ws: WebSocket, host: MediaStreamHost) {
    this.ws = ws;
    this.host = host;
  }

  async receive(message: string | ArrayBuffer): Promise<void> {
    if (typeof message !== "string") {
      this.engine()?.pushAudio(new Uint8Array(message));
      return;
    }
    const event = parseWebMessage(message);
    if (!event) {
      this.host.log().warn("web_message_skipped", { length: message.length });
      return;
    }
    if (event.type === "mark") this.engine()?.markPlayed(event.name);
    else if (event.type === "stop") await this.host.stopped("completed");
    else await this.start();
  }

  /** A turn under way, shown in the browser's live transcript before its record. */
  turnProgress(progress: TurnProgress): void {
    this.sendText({ type: "progress", ...progress });
  }

  /** A finished turn, shown in the browser's live transcript. */
  turnDone(record: TurnRecord): void {
    this.sendText({ type: "turn", ...record });
  }

  async close(): Promise<void> {
    const engine = this.current;
    this.current = null;
    if (engine) {
      engine.close();
      await engine.idle();
    }
  }

  private async start(): Promise<void> {
    const stream = this.host.stream();
    if (stream.tokenUsed) return; // a repeated start: the call is already under way
    stream.streamSid = WEB_STREAM_ID;
    stream.tokenUsed = true;
    this.host.save();
    this.host.log().info("web_call_started");
    await this.engine()?.greet();
  }

  private engine(): ConversationEngine | null {
    if (this.host.stream().streamSid !== WEB_STREAM_ID) return null;
    this.current ??= this.host.engine({ send: (out) => this.send(out) });
    return this.current;
  }

  private send(out: OutboundAudio): void {
    if (out.kind === "media") {
      try {
        // The browser's protocol is 20 ms binary frames, whatever the engine's chunking.
        const mulaw = mulawBytes(out.mulaw);
        for (let at = 0; at < mulaw.length; at += FRAME_BYTES)
          this.ws.send(mulaw.subarray(at, at + FRAME_BYTES));
      } catch (err) {
        this.host.log().warn("web_send_failed", { ...errorFields(err) });
      }
    } else this.sendText(out.kind === "mark" ? { type: "mark", name: out.name } : { type: "clear" });
  }

  private sendText(message: Record<string, unknown>): void {
    try {
      this.ws.send(JSON.stringify(message));
    } catch (err) {
      // The browser went away; webSocketClose finalises the call.
      this.host.log().warn("web_send_failed", { ...errorFields(err) });
    }
  }
}
