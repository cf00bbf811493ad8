import { SentenceSplitter } from "../audio/sentences.ts";
import { FRAME_BYTES, MULAW_SILENCE } from "../audio/telephony.ts";
import { MulawFramer } from "../call/mulaw-framer.ts";
import { PHRASES } from "../call/reply.ts";
import type { RealtimeTimings, TurnRecord } from "../call/summary.ts";
import { isSilence } from "../call/turn.ts";
import { type CapturedUtterance, UtteranceCapture } from "../call/utterance-capture.ts";
import type { CallConfig } from "../config/defaults.ts";
import { errorFields, type Logger } from "../log.ts";
import {
  type ChatMessage,
  type ChatModel,
  ProviderError,
  type SpeechToText,
  type TextToSpeech,
  type ToolCall,
  TTS_PCM_RATE,
} from "../providers/types.ts";
import type { ConversationEngine, EngineOptions, EngineSink, OutboundAudio } from "./engine.ts";
import { SentenceQueue } from "./sentence-queue.ts";
import {
  DEFAULT_GOODBYE,
  FILLER,
  FILLER_AFTER_MS,
  intentOf,
  mayRun,
  roundMessages,
  roundRequest,
  type ToolCallRecord,
  type ToolExecution,
  type ToolIntent,
  type ToolRunner,
} from "./tools/index.ts";

/**
 * The stream pipeline engine (conversation_mode "stream"): the caller's audio is cut into
 * utterances; each is transcribed, answered by the streamed LLM reply, and spoken sentence by
 * sentence (text-to-speech of the first sentence starts while the model is still writing the
 * rest). Marks sent after each sentence tell which sentences the caller has actually heard, so
 * a barge-in records the reply as heard. With tools, the model's reply comes in rounds: what it
 * says before a tool call is spoken, the tools run (a filler if they are slow), and it answers
 * again. The call session owns the call record and the Media Stream adapter the socket; this
 * class owns the conversation's timing.
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
/** The conversation kept for the model: the last dozen exchanges, like record→reply mode. */
const MAX_HISTORY_MESSAGES = 24;

/** A caller utterance waiting for its answer. */
interface Utterance {
  wav: Uint8Array;
  /** deps.now() when the end of speech was detected: what the turn's timings count from */
  endedAt: number;
  at: string;
}

/** deps.now() when the turn reached each step. */
interface Reached {
  transcript?: number;
  firstToken?: number;
  firstAudio?: number;
  firstFrame?: number;
}

/** An answered utterance from its transcript until it is reported through onTurn. */
interface Turn {
  seq: number;
  at: string;
  transcript: string | null;
  endedAt: number;
  reached: Reached;
  /** sentences whose audio has been sent in full, in order */
  sentences: string[];
  /** how many of `sentences` the caller has heard (their marks came back) */
  heard: number;
  /** marks sent for this turn that have not come back */
  marksOut: number;
  /** replying: the reply is being generated; sent: all of it was sent, marks are outstanding */
  state: "replying" | "sent";
  /** set once the turn is over; it is reported when every earlier turn has been */
  record?: TurnRecord;
  /** how many sentences the history keeps (null: none, a failed turn); set with `record` */
  kept: number | null;
  /** finished tool rounds: the assistant's tool calls and their results */
  rounds: ChatMessage[];
  /** index in `sentences` where the answer after the last tool round starts */
  roundStart: number;
  tools: ToolCallRecord[];
  /** a tool is running: the turn is reported once its result is in (a barge-in keeps it) */
  toolsRunning: boolean;
  fillerSaid: boolean;
  /** what the model asked for, carried out once the turn's audio has played */
  intent: ToolIntent | null;
}

interface Mark {
  name: string;
  turn?: Turn;
  /** when it comes back, this many of the turn's sentences have been heard */
  heard?: number;
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
  private readonly framer: MulawFramer;
  private readonly history: ChatMessage[];
  private nextSeq: number;
  /** utterances waiting for the turn in flight to finish */
  private readonly queue: Utterance[] = [];
  private running: Promise<void> | undefined;
  private work: Work | undefined;
  /** turns not reported yet, in seq order */
  private readonly pending: Turn[] = [];
  /** marks sent and not yet echoed, in the order sent (Twilio plays in order) */
  private readonly marks: Mark[] = [];
  private greetings = 0;
  private closed = false;
  /** the utterance in progress began while the agent was speaking */
  private overlapping = false;
  /** the utterance in progress has already interrupted the agent */
  private bargedIn = false;
  /** the call's own lifetime: a tool request already sent is cancelled by the hang-up only */
  private readonly call = new AbortController();

  constructor(deps: PipelineDeps, options: EngineOptions) {
    this.deps = deps;
    this.config = options.config;
    this.interruptMs = options.config.interrupt_timeout * 1000;
    this.history = options.history.slice(-MAX_HISTORY_MESSAGES);
    this.nextSeq = options.nextSeq;
    this.capture = new UtteranceCapture(
      { silenceMs: options.config.end_of_speech_ms },
      {
        speechStarted: () => this.speechStarted(),
        speechContinues: (speechMs) => this.speechContinues(speechMs),
        utterance: (utterance) => this.utteranceEnded(utterance),
      },
    );
    this.framer = new MulawFramer(TTS_PCM_RATE, (frame) => this.send({ kind: "media", mulaw: frame }));
  }

  /** true while agent audio has been sent whose marks have not all come back, or a reply is being generated */
  get speaking(): boolean {
    const work = this.work;
    return (
      this.marks.length > 0 || (work !== undefined && work.phase !== "stt" && !work.controller.signal.aborted)
    );
  }

  async greet(): Promise<void> {
    const resume = this.deps.resume;
    if (resume) return this.sayOpening(resume);
    const greeting = await this.deps.greeting?.();
    if (greeting) this.playAudio(greeting, this.config.greeting);
  }

  /** The first words after a failed transfer, in the number's voice; they join the history. */
  private async sayOpening(text: string): Promise<void> {
    try {
      await this.speak(text, { name: `greeting-${++this.greetings}` }, this.call.signal);
      this.remember([{ role: "assistant", content: text }]);
    } catch (err) {
      if (!this.call.signal.aborted) this.deps.log.warn("pipeline_opening_failed", { ...errorFields(err) });
    }
  }

  /**
   * Plays pre-rendered 8 kHz μ-law audio (the cached greeting) as frames followed by a mark.
   * Frames are views of `mulaw` except the padded last one. `text` joins the history as the
   * agent's words, so the model knows how the call opened.
   */
  playAudio(mulaw: Uint8Array, text: string): void {
    if (this.closed || mulaw.length === 0) return;
    for (let at = 0; at < mulaw.length; at += FRAME_BYTES) {
      let frame = mulaw.subarray(at, at + FRAME_BYTES);
      if (frame.length < FRAME_BYTES) {
        const padded = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
        padded.set(frame);
        frame = padded;
      }
      this.send({ kind: "media", mulaw: frame });
    }
    this.addMark({ name: `greeting-${++this.greetings}` });
    this.remember([{ role: "assistant", content: text }]);
  }

  /** One inbound `media` payload (μ-law bytes, normally 160 = 20 ms; handle any length). */
  pushAudio(mulaw: Uint8Array): void {
    if (this.closed) return;
    try {
      this.capture.push(mulaw);
    } catch (err) {
      // Called from the socket's message handler: one bad payload must not end the call.
      this.deps.log.error("pipeline_audio_failed", { bytes: mulaw?.length, ...errorFields(err) });
    }
  }

  /** Twilio echoed a mark: the audio sent before it has been heard. */
  markPlayed(name: string): void {
    if (this.closed) return;
    const index = this.marks.findIndex((mark) => mark.name === name);
    // Not outstanding: a mark dropped by a clear (Twilio echoes those too), or not one of ours.
    if (index < 0) return;
    for (const mark of this.marks.splice(0, index + 1)) {
      const turn = mark.turn;
      if (!turn) continue;
      turn.marksOut -= 1;
      if (mark.heard !== undefined) turn.heard = Math.max(turn.heard, mark.heard);
      if (turn.state === "sent" && turn.marksOut === 0 && !turn.record) this.completed(turn);
    }
    this.report();
  }

  /** Abort in-flight work (socket closed / call ended). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.marks.length = 0;
    this.work?.controller.abort(new DOMException("the call ended", "AbortError"));
    this.call.abort(new DOMException("the call ended", "AbortError"));
    for (const turn of this.pending) {
      if (turn.record) continue;
      // Whether the audio already sent was played cannot be known any more: count it as heard.
      this.settle(turn, { outcome: "reply", interrupted: turn.state === "replying" }, turn.sentences.length);
    }
    this.report();
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
    this.marks.length = 0;
    for (const turn of this.pending) {
      if (turn.record) continue;
      this.settle(turn, { outcome: "reply", interrupted: true }, turn.heard);
    }
    // A transcription in flight is the caller's earlier words: it goes on and gets answered.
    if (this.work && this.work.phase !== "stt") {
      this.work.controller.abort(new DOMException("the caller barged in", "AbortError"));
    }
    this.report();
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
      work.phase = "reply";
      await this.reply(turn, work);
    } finally {
      this.work = undefined;
    }
  }

  private startTurn(utterance: Utterance, transcript: string | null): Turn {
    const turn: Turn = {
      seq: this.nextSeq++,
      at: utterance.at,
      transcript,
      endedAt: utterance.endedAt,
      reached: {},
      sentences: [],
      heard: 0,
      marksOut: 0,
      state: "replying",
      kept: null,
      rounds: [],
      roundStart: 0,
      tools: [],
      toolsRunning: false,
      fillerSaid: false,
      intent: null,
    };
    this.pending.push(turn);
    this.progress(turn);
    return turn;
  }

  /** The turn so far, to a live view: the transcript, and each sentence once it has been sent. */
  private progress(turn: Turn): void {
    this.deps.onProgress?.({ seq: turn.seq, transcript: turn.transcript, reply: turn.sentences.join(" ") });
  }

  /** Stream the reply and speak it sentence by sentence, in order, running tools between rounds. */
  private async reply(turn: Turn, work: Work): Promise<void> {
    const signal = work.controller.signal;
    const messages: ChatMessage[] = [
      { role: "system", content: this.config.system_prompt },
      ...this.history,
      // Earlier turns not reported yet (their audio is still playing) are part of the conversation.
      ...this.pending.flatMap((t) =>
        t === turn ? [] : historyOf(t, t.record ? t.kept : t.sentences.length),
      ),
      { role: "user", content: turn.transcript ?? "" },
    ];
    const tools = this.deps.tools;
    let stage: "llm" | "tts" = "llm";
    try {
      for (let round = 0; ; round++) {
        const start = turn.sentences.length;
        const sentences = new SentenceQueue();
        const producing = this.produce(turn, [...messages, ...turn.rounds], sentences, signal, round);
        try {
          for (let text = await sentences.next(); text !== undefined; text = await sentences.next()) {
            stage = "tts";
            await this.speakSentence(turn, text, signal);
            stage = "llm";
          }
        } catch (err) {
          // A barge-in or hang-up: whoever aborted has recorded the turn.
          if (signal.aborted) return;
          work.controller.abort(new DOMException(`the reply's ${stage} step failed`, "AbortError"));
          await producing;
          return this.failed(turn, stage, err, work);
        }
        const calls = await producing;
        if (signal.aborted) return;
        if (!tools || !mayRun(calls, tools, round)) break;
        // What the model said before its tool calls has been sent; now the tools run.
        const executions = await this.runTools(turn, tools, calls, signal);
        turn.rounds.push(...roundMessages(turn.sentences.slice(start).join(" "), executions));
        turn.tools.push(...executions.map((e) => e.record));
        turn.roundStart = turn.sentences.length;
        turn.toolsRunning = false;
        // Settled by a barge-in while the tool ran: reported now, with the tool's result.
        if (turn.record) this.report();
        if (signal.aborted) return;
        turn.intent = intentOf(executions);
        if (turn.intent) {
          stage = "tts";
          await this.speakIntent(turn, turn.intent, signal);
          break;
        }
      }
      if (turn.sentences.length === 0) throw new Error("the model returned an empty reply");
    } catch (err) {
      if (signal.aborted) return;
      return this.failed(turn, stage, err, work);
    }
    if (signal.aborted) return;
    turn.state = "sent";
    if (turn.marksOut === 0 && !turn.record) this.completed(turn);
    this.report();
  }

  private async speakSentence(turn: Turn, text: string, signal: AbortSignal): Promise<void> {
    const index = turn.sentences.length;
    await this.speak(
      text,
      { name: `turn-${turn.seq}-${index}`, turn, heard: index + 1 },
      signal,
      turn.reached,
    );
    turn.sentences.push(text);
    this.progress(turn);
  }

  /** A transfer's announcement, or a goodbye when the model ended the call without one. */
  private async speakIntent(turn: Turn, intent: ToolIntent, signal: AbortSignal): Promise<void> {
    if (intent.kind === "transfer") await this.speakSentence(turn, intent.announcement, signal);
    else if (turn.sentences.length === 0) await this.speakSentence(turn, DEFAULT_GOODBYE, signal);
  }

  /**
   * The round's tool calls, run with the call's own signal: a barge-in aborts `signal` (the
   * follow-up), not the requests already sent. A slow round gets one filler per turn.
   */
  private async runTools(
    turn: Turn,
    tools: ToolRunner,
    calls: ToolCall[],
    signal: AbortSignal,
  ): Promise<ToolExecution[]> {
    turn.toolsRunning = true;
    const running = Promise.all(calls.map((call) => tools.execute(call, this.call.signal)));
    if (!turn.fillerSaid) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const slow = await Promise.race([
        running.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), FILLER_AFTER_MS);
        }),
      ]);
      clearTimeout(timer);
      if (slow && !signal.aborted) {
        turn.fillerSaid = true;
        try {
          await this.speak(FILLER, { name: `turn-${turn.seq}-filler`, turn }, signal);
        } catch (err) {
          if (!signal.aborted) this.deps.log.warn("pipeline_filler_failed", { ...errorFields(err) });
        }
      }
    }
    return running;
  }

  /**
   * The model's reply for tool round `round`, as sentences, into `out`; resolves to the tool
   * calls it asked for. Never rejects (a failure ends `out`).
   */
  private async produce(
    turn: Turn,
    messages: ChatMessage[],
    out: SentenceQueue,
    signal: AbortSignal,
    round: number,
  ): Promise<ToolCall[]> {
    const splitter = new SentenceSplitter();
    let calls: ToolCall[] = [];
    try {
      const events = this.deps.llm.streamEvents(
        roundRequest(
          {
            model: this.config.inference_model,
            messages,
            temperature: this.config.temperature,
            maxTokens: this.config.max_tokens,
            signal,
          },
          this.deps.tools,
          round,
        ),
      );
      for await (const event of events) {
        turn.reached.firstToken ??= this.deps.now();
        if (event.type === "tool_calls") {
          calls = event.calls;
          continue;
        }
        for (const sentence of splitter.push(event.text)) out.push(sentence);
      }
      const rest = splitter.flush();
      if (rest) out.push(rest);
      out.end();
    } catch (err) {
      out.fail(err);
    }
    return calls;
  }

  /**
   * Synthesize `text` and send it as frames, then `mark`. Throws if the provider fails (the
   * audio sent so far is still followed by a mark, which then counts nothing as heard) or the
   * signal aborts (nothing more is sent).
   */
  private async speak(text: string, mark: Mark, signal: AbortSignal, reached?: Reached): Promise<void> {
    let complete = false;
    let frames = 0;
    try {
      const audio = this.deps.tts.synthesizeStream({
        text,
        model: this.config.tts_model,
        voice: this.config.tts_voice,
        format: "pcm",
        signal,
      });
      for await (const chunk of audio) {
        signal.throwIfAborted();
        if (reached) reached.firstAudio ??= this.deps.now();
        const sentNow = this.framer.push(chunk);
        if (sentNow > 0 && reached) reached.firstFrame ??= this.deps.now();
        frames += sentNow;
      }
      signal.throwIfAborted();
      complete = true;
    } finally {
      if (signal.aborted) {
        this.framer.discard();
      } else {
        const sentNow = this.framer.end();
        if (sentNow > 0 && reached) reached.firstFrame ??= this.deps.now();
        frames += sentNow;
        if (complete) this.addMark(mark);
        // Audio cut short still gets a mark, so `speaking` lasts while it plays; it counts nothing as heard.
        else if (frames > 0) this.addMark({ name: mark.name, ...(mark.turn && { turn: mark.turn }) });
      }
    }
  }

  private async failed(turn: Turn, stage: "stt" | "llm" | "tts", err: unknown, work: Work): Promise<void> {
    this.deps.log.warn("pipeline_turn_failed", { seq: turn.seq, stage, ...errorFields(err) });
    this.settle(turn, { outcome: "failed", failed_stage: stage }, null);
    this.report();
    work.controller = new AbortController();
    work.phase = "apology";
    const signal = work.controller.signal;
    try {
      await this.speak(PHRASES.tryAgain, { name: `turn-${turn.seq}-apology` }, signal);
    } catch (apologyErr) {
      if (!signal.aborted) {
        this.deps.log.warn("pipeline_apology_failed", { seq: turn.seq, ...errorFields(apologyErr) });
      }
    }
  }

  /** Every sentence was sent and has been heard. */
  private completed(turn: Turn): void {
    this.settle(turn, { outcome: "reply" }, turn.sentences.length);
  }

  /**
   * Fix the turn's record. `heard`: how many sentences the caller heard, which the record and
   * the history keep (null: a failed turn, whose spoken part is recorded but leaves no trace
   * in the history).
   */
  private settle(
    turn: Turn,
    result: Pick<TurnRecord, "outcome" | "failed_stage" | "interrupted">,
    heard: number | null,
  ): void {
    const reply = turn.sentences.slice(0, heard ?? turn.sentences.length).join(" ");
    turn.record = {
      seq: turn.seq,
      at: turn.at,
      outcome: result.outcome,
      transcript: turn.transcript,
      reply: heard === null ? reply || null : reply,
      ...(result.failed_stage !== undefined && { failed_stage: result.failed_stage }),
      timings: timingsOf(turn),
      ...(result.interrupted && { interrupted: true }),
      ...(turn.tools.length > 0 && { tools: turn.tools }),
    };
    turn.kept = heard;
  }

  /** Report finished turns in seq order (one whose tool is still running waits for its result). */
  private report(): void {
    for (let turn = this.pending[0]; turn?.record && !turn.toolsRunning; turn = this.pending[0]) {
      this.pending.shift();
      // A barge-in may have settled the turn before its tool's result came in.
      if (turn.tools.length > 0) turn.record.tools = turn.tools;
      const messages = historyOf(turn, turn.kept);
      this.remember(messages);
      try {
        this.deps.onTurn(turn.record, messages);
      } catch (err) {
        this.deps.log.error("pipeline_on_turn_failed", { seq: turn.seq, ...errorFields(err) });
      }
      if (turn.intent && turn.record.outcome === "reply" && !turn.record.interrupted) this.carryOut(turn);
    }
  }

  /** The turn's audio has all played: hang up, or hand the caller to the transfer target. */
  private carryOut(turn: Turn): void {
    const intent = turn.intent;
    if (this.closed || !intent) return;
    this.deps.log.info("pipeline_tool_intent", { seq: turn.seq, intent: intent.kind });
    if (intent.kind === "transfer") this.deps.onTransfer?.(intent, turn.seq);
    else this.deps.onEnd?.({ reason: "agent_hangup", goodbye: "" });
  }

  private remember(messages: ChatMessage[]): void {
    this.history.push(...messages);
    if (this.history.length > MAX_HISTORY_MESSAGES) {
      this.history.splice(0, this.history.length - MAX_HISTORY_MESSAGES);
      // A tool result whose call was cut off would be refused by the model's API.
      while (this.history[0]?.role === "tool") this.history.shift();
    }
  }

  private addMark(mark: Mark): void {
    this.marks.push(mark);
    if (mark.turn) mark.turn.marksOut += 1;
    this.send({ kind: "mark", name: mark.name });
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

/**
 * A turn as the history keeps it, `kept` sentences heard: the caller's words, the tool rounds,
 * then what was heard of the final answer (null: nothing, a failed turn).
 */
function historyOf(turn: Turn, kept: number | null): ChatMessage[] {
  if (kept === null) return [];
  const messages: ChatMessage[] = [];
  if (turn.transcript !== null) messages.push({ role: "user", content: turn.transcript });
  messages.push(...turn.rounds);
  const answer = turn.sentences.slice(turn.roundStart, Math.max(turn.roundStart, kept)).join(" ");
  if (answer) messages.push({ role: "assistant", content: answer });
  return messages;
}

/** Milestones not reached (a failed or interrupted turn) count as 0. */
function timingsOf(turn: Turn): RealtimeTimings {
  const since = (at: number | undefined) => (at === undefined ? 0 : Math.max(0, at - turn.endedAt));
  return {
    transcript_ms: since(turn.reached.transcript),
    first_token_ms: since(turn.reached.firstToken),
    first_audio_ms: since(turn.reached.firstAudio),
    first_frame_ms: since(turn.reached.firstFrame),
  };
}
