import WebSocket from "ws";
import type { HttpClient } from "./http.ts";
import { FRAME_BYTES, FRAME_MS, inboundMedia, SILENT_FRAME } from "./stream-frames.ts";
import {
  ACCOUNT_SID,
  incomingCall,
  newCallSid,
  newStreamSid,
  signedForm,
  twilioSignature,
} from "./twilio-client.ts";

/**
 * One simulated caller on a Media Streams call, behaving as Twilio does: it answers the voice
 * webhook's <Connect><Stream>, opens the signed WebSocket, sends `connected` and `start` (with
 * the <Parameter> token), then a 20 ms μ-law frame every 20 ms (silence unless it is speaking),
 * plays the agent's audio at real-time speed and echoes each `mark` once the audio sent before
 * it has played.
 *
 * A frame carrying audio [20k, 20k+20) ms of the stream is sent at start + 20(k+1) ms: Twilio
 * can only send a frame once its 20 ms have been spoken.
 */

/** An agent frame arriving more than this after the audio before it finished playing is late. */
export const LATE_SLACK_MS = FRAME_MS;

export interface CallStats {
  /** agent frames that arrived after the line had run dry for more than LATE_SLACK_MS mid-utterance */
  lateFrames: number;
  /** worst gap (ms) the line ran dry before a late frame */
  worstGapMs: number;
  /** how far behind its schedule the caller itself sent a frame, at worst (ms) */
  senderLagMs: number;
  agentFrames: number;
}

interface Outbound {
  event: string;
  media?: { payload?: string };
  mark?: { name?: string };
}

/** The <Stream url> and its <Parameter>s (the one-time token, the signed call snapshot) from the voice webhook's TwiML. */
function streamOf(twiml: string): { url: string; parameters: Record<string, string> } {
  const url = /<Stream url="([^"]+)"/.exec(twiml)?.[1];
  const parameters = Object.fromEntries(
    [...twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]+)"/g)].map((m) => [m[1], m[2]]),
  );
  if (!url || !parameters.token)
    throw new Error(`the voice webhook did not answer with a stream: ${twiml.slice(0, 300)}`);
  return { url: url.replaceAll("&amp;", "&"), parameters };
}

export class SimulatedCall {
  readonly callSid: string;
  readonly streamSid = newStreamSid();
  readonly stats: CallStats = { lateFrames: 0, worstGapMs: 0, senderLagMs: 0, agentFrames: 0 };
  private readonly socket: WebSocket;
  /** frames still to speak; silence is sent when empty */
  private readonly speech: Uint8Array[] = [];
  private chunk = 0;
  private startedAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** when the agent audio received so far will have finished playing */
  private playEnd = 0;
  /** marks received and not yet echoed, each with the timer that echoes it */
  private readonly pendingMarks = new Map<ReturnType<typeof setTimeout>, string>();
  /** the next agent frame starts a new utterance (no lateness check against the silence before it) */
  private utteranceStarts = true;
  private lastAgentFrameAt = 0;
  private closed = false;
  /** waiters for "the frame with this chunk number has been sent" */
  private readonly sentWaiters = new Map<number, (sentAt: number) => void>();
  private firstFrameWaiter: ((at: number) => void) | undefined;
  /** when the greeting's first frame arrived */
  readonly greeting: Promise<number>;

  private constructor(callSid: string, socket: WebSocket) {
    this.callSid = callSid;
    this.socket = socket;
    this.greeting = this.nextAgentUtterance();
  }

  /** Rings the Worker: voice webhook, then the Media Stream WebSocket, `connected` and `start`. */
  static async dial(client: HttpClient, publicBase: string, phone: string): Promise<SimulatedCall> {
    const callSid = newCallSid();
    const answer = await client.expectOk(
      signedForm(publicBase, "/webhooks/twilio/voice", incomingCall(callSid, phone)),
    );
    const stream = streamOf(answer.body);
    // Without permessage-deflate, which Twilio's Media Streams documentation does not mention:
    // Node's built-in WebSocket (undici) always offers it and workerd accepts, so every 20 ms
    // frame was deflated and inflated on both sides (a third more CPU for the callers).
    const socket = new WebSocket(stream.url, {
      headers: { "X-Twilio-Signature": twilioSignature(stream.url) },
      perMessageDeflate: false,
    });
    const call = new SimulatedCall(callSid, socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", (err) =>
        reject(new Error(`${callSid}: the Media Stream socket did not open`, { cause: err })),
      );
    });
    socket.on("message", (data) => call.received(String(data)));
    socket.on("close", () => call.stop());
    call.send({ event: "connected", protocol: "Call", version: "1.0.0" });
    call.send({
      event: "start",
      sequenceNumber: "1",
      start: {
        accountSid: ACCOUNT_SID,
        streamSid: call.streamSid,
        callSid,
        tracks: ["inbound"],
        customParameters: stream.parameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
      streamSid: call.streamSid,
    });
    call.startedAt = performance.now();
    call.schedule();
    return call;
  }

  /**
   * Speak `frames` from the next frame on. Resolves with the stream chunk number of the first
   * frame spoken (frame i of `frames` goes out as chunk first + i).
   */
  say(frames: Uint8Array[]): number {
    const first = this.chunk + this.speech.length + 1;
    this.speech.push(...frames);
    return first;
  }

  /** When the frame with this chunk number left (performance.now()), once it has. */
  sentAt(chunk: number): Promise<number> {
    if (chunk <= this.chunk) throw new Error(`chunk ${chunk} was sent already`);
    return new Promise((resolve) => this.sentWaiters.set(chunk, resolve));
  }

  /** The arrival time of the next agent frame that starts an utterance. */
  nextAgentUtterance(): Promise<number> {
    this.utteranceStarts = true;
    return new Promise((resolve) => {
      this.firstFrameWaiter = resolve;
    });
  }

  /** Resolves once the agent has been quiet for `quietMs`: its audio played, its marks echoed. */
  async agentDone(quietMs: number, timeoutMs: number): Promise<void> {
    const gives = performance.now() + timeoutMs;
    for (;;) {
      const now = performance.now();
      const quiet =
        this.pendingMarks.size === 0 &&
        now >= this.playEnd + quietMs &&
        now >= this.lastAgentFrameAt + quietMs;
      if (quiet) return;
      if (now > gives || this.closed)
        throw new Error(`${this.callSid}: the agent was still talking after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The caller hangs up: Twilio's `stop`, then the socket closes. */
  hangUp(): void {
    if (this.closed) return;
    this.send({
      event: "stop",
      streamSid: this.streamSid,
      stop: { accountSid: ACCOUNT_SID, callSid: this.callSid },
    });
    this.stop();
    this.socket.close(1000, "caller hung up");
  }

  private stop(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private send(message: object | string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Send every frame that is due (catching up if the event loop was late), then wait for the next. */
  private schedule(): void {
    if (this.closed) return;
    const now = performance.now();
    for (let due = this.startedAt + (this.chunk + 1) * FRAME_MS; due <= now; due += FRAME_MS) {
      this.stats.senderLagMs = Math.max(this.stats.senderLagMs, now - due);
      this.chunk += 1;
      this.send(inboundMedia(this.streamSid, this.chunk, this.speech.shift() ?? SILENT_FRAME));
      const waiter = this.sentWaiters.get(this.chunk);
      if (waiter) {
        this.sentWaiters.delete(this.chunk);
        waiter(now);
      }
    }
    const next = this.startedAt + (this.chunk + 1) * FRAME_MS;
    this.timer = setTimeout(() => this.schedule(), Math.max(0, next - performance.now()));
  }

  private received(data: string): void {
    const now = performance.now();
    const message = JSON.parse(data) as Outbound;
    if (message.event === "media") {
      const ms = (Buffer.from(message.media?.payload ?? "", "base64").length / FRAME_BYTES) * FRAME_MS;
      this.stats.agentFrames += 1;
      if (this.utteranceStarts) {
        this.utteranceStarts = false;
        this.firstFrameWaiter?.(now);
        this.firstFrameWaiter = undefined;
      } else if (now - this.playEnd > LATE_SLACK_MS) {
        this.stats.lateFrames += 1;
        this.stats.worstGapMs = Math.max(this.stats.worstGapMs, now - this.playEnd);
      }
      this.playEnd = Math.max(this.playEnd, now) + ms;
      this.lastAgentFrameAt = now;
    } else if (message.event === "mark") {
      // Twilio echoes a mark when the audio sent before it has played.
      const name = message.mark?.name ?? "";
      const timer = setTimeout(() => this.echoMark(timer), Math.max(0, this.playEnd - now));
      this.pendingMarks.set(timer, name);
    } else if (message.event === "clear") {
      // Twilio drops the audio not yet played; the marks behind it come back at once.
      this.playEnd = now;
      for (const timer of [...this.pendingMarks.keys()]) {
        clearTimeout(timer);
        this.echoMark(timer);
      }
    }
  }

  private echoMark(timer: ReturnType<typeof setTimeout>): void {
    const name = this.pendingMarks.get(timer);
    this.pendingMarks.delete(timer);
    if (name !== undefined) this.send({ event: "mark", streamSid: this.streamSid, mark: { name } });
  }
}
