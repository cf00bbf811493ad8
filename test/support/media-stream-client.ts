import { exports } from "cloudflare:workers";
import { pcm16ToMulaw } from "../../src/audio/mulaw.ts";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "./env.ts";

/**
 * Plays Twilio's side of a bidirectional Media Stream over a real WebSocket to the Worker:
 * a signed handshake, `connected`, `start` with the <Parameter>s, 20 ms μ-law frames, and
 * echoed marks (as Twilio does once audio before a mark has played).
 */
export type Received =
  | { event: "media"; streamSid: string; media: { payload: string } }
  | { event: "mark"; streamSid: string; mark: { name: string } }
  | { event: "clear"; streamSid: string };

export class MediaStreamClient {
  readonly received: Received[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly ws: WebSocket;
  private readonly streamSid = `MZ${crypto.randomUUID().replace(/-/g, "")}`;
  private chunk = 0;

  private readonly callSid: string;

  private constructor(ws: WebSocket, callSid: string) {
    this.callSid = callSid;
    this.ws = ws;
    ws.addEventListener("message", (e) => this.received.push(JSON.parse(String(e.data)) as Received));
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
    });
  }

  /** Opens the socket at the <Stream url> from the TwiML, signing the handshake as Twilio does. */
  static async connect(streamUrl: string, callSid: string, signature?: string) {
    const sig = signature ?? (await computeSignature(testEnv.TWILIO_AUTH_TOKEN, streamUrl));
    const response = await exports.default.fetch(streamUrl.replace(/^ws/, "http"), {
      headers: { Upgrade: "websocket", "X-Twilio-Signature": sig },
    });
    if (!response.webSocket) return { status: response.status, client: null };
    response.webSocket.accept();
    return { status: response.status, client: new MediaStreamClient(response.webSocket, callSid) };
  }

  start(parameters: Record<string, string>): void {
    this.send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.send({
      event: "start",
      sequenceNumber: "1",
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: "AC00000000000000000000000000000000",
        callSid: this.callSid,
        tracks: ["inbound"],
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
        customParameters: parameters,
      },
    });
  }

  /** The caller's audio, as 20 ms frames. Returns each frame's base64 payload, as sent. */
  speak(samples: Int16Array): string[] {
    const mulaw = pcm16ToMulaw(samples);
    const payloads: string[] = [];
    for (let at = 0; at + 160 <= mulaw.length; at += 160) {
      this.chunk += 1;
      let binary = "";
      for (const b of mulaw.subarray(at, at + 160)) binary += String.fromCharCode(b);
      payloads.push(btoa(binary));
      this.send({
        event: "media",
        streamSid: this.streamSid,
        media: {
          track: "inbound",
          chunk: String(this.chunk),
          timestamp: String(this.chunk * 20),
          payload: payloads.at(-1),
        },
      });
    }
    return payloads;
  }

  /** Twilio reports marks back once the audio before them has played. */
  echoMarks(names: string[]): void {
    for (const name of names) this.send({ event: "mark", streamSid: this.streamSid, mark: { name } });
  }

  /** The socket drops, without Twilio's `stop`. */
  disconnect(): void {
    this.ws.close(1001, "going away");
  }

  raw(text: string): void {
    this.ws.send(text);
  }

  stop(): void {
    this.send({
      event: "stop",
      streamSid: this.streamSid,
      stop: { accountSid: "AC00000000000000000000000000000000", callSid: this.callSid },
    });
  }

  marks(): string[] {
    return this.received.flatMap((m) => (m.event === "mark" ? [m.mark.name] : []));
  }

  /** 20 ms frames of agent audio received so far (a `media` message may carry several). */
  mediaCount(): number {
    return this.received
      .filter((m) => m.event === "media")
      .reduce((frames, m) => frames + atob(m.media.payload).length / 160, 0);
  }

  private send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }
}
