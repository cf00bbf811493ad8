import { type MulawAudio, mulawBytes } from "../audio/mulaw-audio.ts";
import { PHRASES } from "../call/reply.ts";
import { isSilence } from "../call/turn.ts";
import { type CapturedUtterance, UtteranceCapture } from "../call/utterance-capture.ts";
import type { CallConfig } from "../config/defaults.ts";
import { errorFields, type Logger } from "../log.ts";
import { type ChatModel, ProviderError, type SpeechToText, type TextToSpeech } from "../providers/types.ts";
import type { ConversationEngine, EngineOptions, EngineSink, OutboundAudio } from "./engine.ts";
import { type ReplyHost, streamReply } from "./pipeline-reply.ts";
import { PipelineSpeaker } from "./pipeline-speaker.ts";
import { type Turn, TurnLedger } from "./pipeline-turn.ts";
import { carryOutIntent, FILLER, type ToolRunner } from "./tools/index.ts";

/**
 * The stream pipeline engine (conversation_mode "stream"): the caller's audio is cut into
 * utterances; each is transcribed, answered by the streamed LLM reply, and spoken sentence by
 * sentence (text-to-speech of the first sentence starts while the model is still writing the
 * rest). Marks sent after each sentence tell which sentences the caller has actually heard, so
 * a barge-in records the reply as heard. The reply itself, in tool rounds, is ./pipeline-reply.ts;
 * the turns' records and the history, ./pipeline-turn.ts; speech into frames and marks,
 * ./pipeline-speaker.ts. The call session owns the call record and the
 * Media Stream adapter the socket; this class owns the conversation's timing.
 */

export interface PipelineDeps
  extends Pick<EngineSink, "send" | "onTurn">,
    Partial<Pick<EngineSink, "onEnd" | "onTransfer" | "onProgress">> {
  stt: SpeechToText;
  llm: ChatModel;
  tts: TextToSpeech;
  /** The greeting as 8 kHz μ-law (cached), or null when it can't be had: the call goes on without it. */
  greeting?: () => Promise<Uint8Array | null>;
  /** said instead of the greeting: the caller is back from a transfer that did not connect */
  resume?: string | null;
  /** the number's tools (absent or null: the model can only talk) */
  tools?: ToolRunner | null;
  now(): number;
  /** the call's logger, with the stream's stream_sid */
  log: Logger;
}
/** A caller utterance waiting for its answer. */
interface Utterance {
  wav: Uint8Array;
  /** deps.now() when the end of speech was detected: what the turn's timings count from */
  endedAt: number;
  at: string;
}

/** The provider work in flight; barge-in and close abort it. */
interface Work {
  controller: AbortController;
  phase: "stt" | "reply" | "apology";
}

export class PipelineEngine implements ConversationEngine {
  private readonly deps: PipelineDeps;
  private readonly config: CallConfig;
  private readonly interruptMs: number;
  private readonly capture: UtteranceCapture;
  private readonly speaker: PipelineSpeaker;
  /** the conversation so far and the turns not reported yet */
  private readonly turns: TurnLedger;
  /** utterances waiting for the turn in flight to finish */
  private readonly queue: Utterance[] = [];
  private running: Promise<void> | undefined;
  private work: Work | undefined;
  private greetings = 0;
  /**
   * The greeting, from its arrival until the line is quiet (at once, unless the caller is
   * speaking or an utterance waits for its transcript): dropped if a turn starts meanwhile.
   */
  private heldGreeting: Uint8Array | null = null;
  /** a turn has started: a greeting not played by then never is */
  private conversing = false;
  private closed = false;
  /** the utterance in progress began while the agent was speaking */
  private overlapping = false;
  /** the utterance in progress has already interrupted the agent */
  private bargedIn = false;
  /** the call's own lifetime: a tool request already sent is cancelled by the hang-up only */
  private readonly call = new AbortController();
  private readonly replies: ReplyHost;

  constructor(deps: PipelineDeps, options: EngineOptions) {
    this.deps = deps;
    this.config = options.config;
    this.interruptMs = options.config.interrupt_timeout * 1000;
    this.turns = new TurnLedger(options.history, options.nextSeq, (turn, messages) => {
      try {
        this.deps.onTurn(turn.record, messages);
      } catch (err) {
        this.deps.log.error("pipeline_on_turn_failed", { seq: turn.seq, ...errorFields(err) });
      }
      if (turn.intent && turn.record.outcome === "reply" && !turn.record.interrupted) this.carryOut(turn);
    });
    this.capture = new UtteranceCapture(
      { silenceMs: options.config.end_of_speech_ms },
      {
        speechStarted: () => this.speechStarted(),
        speechContinues: (speechMs) => this.speechContinues(speechMs),
        utterance: (utterance) => this.utteranceEnded(utterance),
      },
    );
    this.speaker = new PipelineSpeaker({
      tts: deps.tts,
      config: options.config,
      now: () => deps.now(),
      send: (out) => this.send(out),
    });
    this.replies = {
      llm: deps.llm,
      config: options.config,
      tools: deps.tools,
      callSignal: this.call.signal,
      now: () => deps.now(),
      log: deps.log,
      speakSentence: (turn, text, signal) => this.speakSentence(turn, text, signal),
      speakFiller: (turn, signal) =>
        this.speaker.speak(FILLER, { name: `turn-${turn.seq}-filler`, turn }, signal),
      toolsAnswered: (turn) => {
        // Settled by a barge-in while the tool ran: reported now, with the tool's result.
        if (turn.record) this.turns.report();
      },
    };
  }

  /** true while agent audio has been sent whose marks have not all come back, or a reply is being generated */
  get speaking(): boolean {
    const work = this.work;
    return (
      this.speaker.playing || (work !== undefined && work.phase !== "stt" && !work.controller.signal.aborted)
    );
  }

  /**
   * Opens the call: the resume line after a failed transfer, else the greeting. A greeting not
   * cached yet takes its synthesis time (up to seconds), and a caller hearing silence may speak
   * first: a greeting that arrives after a turn started is dropped (that turn's reply, or its
   * apology, opens the call), and one that arrives while the caller is speaking or an utterance
   * waits for its transcript is held until then (see heldGreeting). Resolves when the greeting
   * is sent, held or dropped.
   */
  async greet(): Promise<void> {
    const resume = this.deps.resume;
    if (resume) return this.sayOpening(resume);
    const greeting = await this.deps.greeting?.();
    if (!greeting || greeting.length === 0 || this.closed) return;
    this.heldGreeting = greeting;
    if (this.conversing) this.dropGreeting();
    else this.greetIfQuiet();
  }

  /**
   * Plays the held greeting once the line is quiet: the caller is not speaking and no utterance
   * waits for its transcript (one that holds no words leaves the greeting to open the call).
   */
  private greetIfQuiet(): void {
    const greeting = this.heldGreeting;
    if (!greeting || this.closed || this.capture.speaking || this.queue.length > 0 || this.work) return;
    this.heldGreeting = null;
    this.speaker.play(greeting, { name: `greeting-${++this.greetings}` });
    // The model knows how the call opened.
    this.turns.remember([{ role: "assistant", content: this.config.greeting }]);
  }

  /** A turn starts: the conversation has begun, so a greeting not played yet never will be. */
  private startTurn(utterance: Utterance, transcript: string | null): Turn {
    this.conversing = true;
    this.dropGreeting();
    return this.turns.start(utterance.at, utterance.endedAt, transcript);
  }

  /** The held greeting, if any, is not played: a turn began first and its reply opens the call. */
  private dropGreeting(): void {
    if (!this.heldGreeting) return;
    this.heldGreeting = null;
    this.deps.log.info("pipeline_greeting_skipped", { reason: "caller_spoke_first" });
  }

  /** Words of the agent's own outside a turn (after a failed transfer), in the number's voice; they join the history. */
  private async sayOpening(text: string): Promise<void> {
    try {
      await this.speaker.speak(text, { name: `greeting-${++this.greetings}` }, this.call.signal);
      this.turns.remember([{ role: "assistant", content: text }]);
    } catch (err) {
      if (!this.call.signal.aborted) this.deps.log.warn("pipeline_opening_failed", { ...errorFields(err) });
    }
  }

  /** One inbound `media` payload (μ-law bytes, normally 160 = 20 ms; handle any length). */
  pushAudio(mulaw: MulawAudio): void {
    if (this.closed) return;
    try {
      this.capture.push(mulawBytes(mulaw));
    } catch (err) {
      // Called from the socket's message handler: one bad payload must not end the call.
      this.deps.log.error("pipeline_audio_failed", { bytes: mulaw?.length, ...errorFields(err) });
    }
  }

  /** Twilio echoed a mark: the audio sent before it has been heard. */
  markPlayed(name: string): void {
    if (this.closed) return;
    const played = this.speaker.played(name);
    if (played.length > 0) this.turns.played(played);
  }

  /** Abort in-flight work (socket closed / call ended). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.speaker.forget();
    this.work?.controller.abort(new DOMException("the call ended", "AbortError"));
    this.call.abort(new DOMException("the call ended", "AbortError"));
    this.turns.closed();
  }

  /** Resolves when no turn is in flight (tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private speechStarted(): void {
    this.overlapping = this.speaking;
    this.bargedIn = false;
  }

  private speechContinues(speechMs: number): void {
    if (this.bargedIn || !this.config.enable_interrupts) return;
    if (speechMs >= this.interruptMs && this.speaking) this.bargeIn();
  }

  private utteranceEnded(utterance: CapturedUtterance): void {
    const fields = { duration_ms: utterance.durationMs };
    if (utterance.truncated) this.deps.log.warn("pipeline_utterance_truncated", fields);
    // Too short to interrupt while the agent spoke: a cough, a noise or an "uh-huh", not a turn.
    if (
      this.config.enable_interrupts &&
      this.overlapping &&
      !this.bargedIn &&
      utterance.durationMs < this.interruptMs
    ) {
      this.deps.log.info("pipeline_utterance_ignored", fields);
      return;
    }
    this.queue.push({ wav: utterance.wav, endedAt: this.deps.now(), at: new Date().toISOString() });
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
  }

  private bargeIn(): void {
    this.bargedIn = true;
    this.deps.log.info("pipeline_barge_in");
    this.send({ kind: "clear" });
    // Twilio echoes the marks a clear drops: they must not count as heard.
    this.speaker.forget();
    this.turns.interrupted();
    // A transcription in flight is the caller's earlier words: it goes on and gets answered.
    if (this.work && this.work.phase !== "stt") {
      this.work.controller.abort(new DOMException("the caller barged in", "AbortError"));
    }
    this.turns.report();
  }

  /** Answer queued utterances one at a time, in order. */
  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next && !this.closed; next = this.queue.shift()) {
      try {
        await this.respond(next);
      } catch (err) {
        // respond handles provider failures itself; this is a bug, and the next caller turn may still work.
        this.deps.log.error("pipeline_turn_crashed", { ...errorFields(err) });
      }
    }
    // A greeting still held means the utterances held no words: it opens the call now.
    this.greetIfQuiet();
  }

  private async respond(utterance: Utterance): Promise<void> {
    const work: Work = { controller: new AbortController(), phase: "stt" };
    this.work = work;
    try {
      let text: string;
      try {
        ({ text } = await this.deps.stt.transcribe(
          { data: utterance.wav, contentType: "audio/wav", filename: "utterance.wav" },
          { model: this.config.stt_model, signal: work.controller.signal },
        ));
      } catch (err) {
        if (this.closed) return;
        if (err instanceof ProviderError && err.kind === "audio_too_short") {
          // Not a failure: too little audio to hold words, like a transcript of silence.
          this.deps.log.info("pipeline_utterance_silent", { reason: "audio_too_short" });
          return;
        }
        return await this.failed(this.startTurn(utterance, null), "stt", err, work);
      }
      const transcribedAt = this.deps.now();
      const transcript = text.trim();
      if (isSilence(transcript)) {
        this.deps.log.info("pipeline_utterance_silent");
        return;
      }
      const turn = this.startTurn(utterance, transcript);
      turn.reached.transcript = transcribedAt;
      this.progress(turn);
      work.phase = "reply";
      await this.reply(turn, work);
    } finally {
      this.work = undefined;
    }
  }

  /** The turn so far, to a live view: the transcript, and each sentence once it has been sent. */
  private progress(turn: Turn): void {
    this.deps.onProgress?.({ seq: turn.seq, transcript: turn.transcript, reply: turn.sentences.join(" ") });
  }

  /** The turn's reply (./pipeline-reply.ts), then its record once every sentence has been heard. */
  private async reply(turn: Turn, work: Work): Promise<void> {
    const messages = this.turns.messagesFor(turn, this.config.system_prompt);
    const end = await streamReply(this.replies, turn, messages, work.controller);
    if (end.kind === "aborted") return;
    if (end.kind === "failed") return this.failed(turn, end.stage, end.error, work);
    this.turns.sent(turn);
  }

  private async speakSentence(turn: Turn, text: string, signal: AbortSignal): Promise<void> {
    const index = turn.sentences.length;
    await this.speaker.speak(
      text,
      { name: `turn-${turn.seq}-${index}`, turn, heard: index + 1 },
      signal,
      turn.reached,
    );
    turn.sentences.push(text);
    this.progress(turn);
  }

  private async failed(turn: Turn, stage: "stt" | "llm" | "tts", err: unknown, work: Work): Promise<void> {
    this.deps.log.warn("pipeline_turn_failed", { seq: turn.seq, stage, ...errorFields(err) });
    this.turns.failed(turn, stage);
    // A call that ended meanwhile hears no apology (its signals are all aborted; this one is new).
    if (this.closed) return;
    work.controller = new AbortController();
    work.phase = "apology";
    const signal = work.controller.signal;
    try {
      await this.speaker.speak(PHRASES.tryAgain, { name: `turn-${turn.seq}-apology` }, signal);
    } catch (apologyErr) {
      if (!signal.aborted) {
        this.deps.log.warn("pipeline_apology_failed", { seq: turn.seq, ...errorFields(apologyErr) });
      }
    }
  }

  /** The turn's audio has all played: hang up, or hand the caller to the transfer target. */
  private carryOut(turn: Turn): void {
    const intent = turn.intent;
    if (this.closed || !intent) return;
    this.deps.log.info("pipeline_tool_intent", { seq: turn.seq, intent: intent.kind });
    carryOutIntent(intent, turn.seq, this.deps, (text) => void this.sayOpening(text));
  }

  private send(out: OutboundAudio): void {
    if (this.closed) return;
    try {
      this.deps.send(out);
    } catch (err) {
      // The socket is gone; its close event may never come, so stop here.
      this.deps.log.warn("pipeline_send_failed", { kind: out.kind, ...errorFields(err) });
      this.close();
    }
  }
}
