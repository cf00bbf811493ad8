import { SentenceSplitter } from "../audio/sentences.ts";
import type { CallConfig } from "../config/defaults.ts";
import { errorFields, type Logger } from "../log.ts";
import type { ChatMessage, ChatModel, ToolCall } from "../providers/types.ts";
import type { Turn } from "./pipeline-turn.ts";
import { SentenceQueue } from "./sentence-queue.ts";
import {
  FILLER_AFTER_MS,
  intentOf,
  intentSpeech,
  mayRun,
  roundMessages,
  roundRequest,
  type ToolExecution,
  type ToolRunner,
} from "./tools/index.ts";

/**
 * One turn's reply in the stream pipeline: the model's answer streamed and spoken sentence by
 * sentence (speech of the first sentence starts while the model still writes the rest), in
 * tool rounds. What the model says before a tool call is spoken before the tool runs; a slow
 * round gets one filler; a transfer or end_call ends the rounds with its announcement or
 * goodbye. How many rounds a turn may have is decided in ./tools/rounds.ts (mayRun,
 * roundRequest); the engine (./pipeline.ts) owns audio, marks and barge-in.
 */

/** What the reply needs from the engine that owns the call's audio. */
export interface ReplyHost {
  llm: ChatModel;
  config: CallConfig;
  tools: ToolRunner | null | undefined;
  /** the call's own lifetime: a tool request already sent is cancelled by the hang-up only */
  callSignal: AbortSignal;
  now(): number;
  log: Logger;
  /** Synthesize `text` and send it as the turn's next sentence; throws if speech fails or `signal` aborts. */
  speakSentence(turn: Turn, text: string, signal: AbortSignal): Promise<void>;
  /** Synthesize and send the filler (not a sentence of the reply); throws like speakSentence. */
  speakFiller(turn: Turn, signal: AbortSignal): Promise<void>;
  /** A round's tools have answered: a turn a barge-in settled meanwhile may be reported now. */
  toolsAnswered(turn: Turn): void;
}

/** How a reply ended: all of it sent, cut short by a barge-in or hang-up, or a provider failed. */
export type ReplyEnd =
  | { kind: "sent" }
  | { kind: "aborted" }
  | { kind: "failed"; stage: "llm" | "tts"; error: unknown };

/**
 * Streams and speaks `turn`'s reply to `messages` (system prompt, history, the caller's words),
 * round after round. `controller` is the turn's: a barge-in or hang-up aborts it; a failed
 * speech request aborts it here to stop the model. Never rejects.
 */
export async function streamReply(
  host: ReplyHost,
  turn: Turn,
  messages: ChatMessage[],
  controller: AbortController,
): Promise<ReplyEnd> {
  const signal = controller.signal;
  const tools = host.tools;
  let stage: "llm" | "tts" = "llm";
  try {
    for (let round = 0; ; round++) {
      const start = turn.sentences.length;
      const sentences = new SentenceQueue();
      const producing = modelRound(host, turn, [...messages, ...turn.rounds], sentences, signal, round);
      try {
        for (let text = await sentences.next(); text !== undefined; text = await sentences.next()) {
          stage = "tts";
          await host.speakSentence(turn, text, signal);
          stage = "llm";
        }
      } catch (err) {
        // A barge-in or hang-up: whoever aborted has recorded the turn.
        if (signal.aborted) return { kind: "aborted" };
        controller.abort(new DOMException(`the reply's ${stage} step failed`, "AbortError"));
        await producing;
        return { kind: "failed", stage, error: err };
      }
      const calls = await producing;
      if (signal.aborted) return { kind: "aborted" };
      if (!tools || !mayRun(calls, tools, round)) break;
      // What the model said before its tool calls has been sent; now the tools run.
      const executions = await runTools(host, turn, tools, calls, signal);
      turn.rounds.push(...roundMessages(turn.sentences.slice(start).join(" "), executions));
      turn.tools.push(...executions.map((e) => e.record));
      turn.roundStart = turn.sentences.length;
      turn.toolsRunning = false;
      host.toolsAnswered(turn);
      if (signal.aborted) return { kind: "aborted" };
      turn.intent = intentOf(executions);
      if (turn.intent) {
        stage = "tts";
        const speech = intentSpeech(turn.intent, turn.sentences.join(" "));
        if (speech) await host.speakSentence(turn, speech, signal);
        break;
      }
    }
    if (turn.sentences.length === 0) throw new Error("the model returned an empty reply");
  } catch (err) {
    if (signal.aborted) return { kind: "aborted" };
    return { kind: "failed", stage, error: err };
  }
  return signal.aborted ? { kind: "aborted" } : { kind: "sent" };
}

/**
 * The round's tool calls, run with the call's own signal: a barge-in aborts `signal` (the
 * follow-up), not the requests already sent. A round still running after FILLER_AFTER_MS gets
 * the filler, once per turn.
 */
async function runTools(
  host: ReplyHost,
  turn: Turn,
  tools: ToolRunner,
  calls: ToolCall[],
  signal: AbortSignal,
): Promise<ToolExecution[]> {
  turn.toolsRunning = true;
  const running = Promise.all(calls.map((call) => tools.execute(call, host.callSignal)));
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
        await host.speakFiller(turn, signal);
      } catch (err) {
        if (!signal.aborted) host.log.warn("pipeline_filler_failed", { ...errorFields(err) });
      }
    }
  }
  return running;
}

/**
 * The model's reply for tool round `round`, as sentences, into `out`; resolves to the tool
 * calls it asked for. Never rejects (a failure ends `out`).
 */
async function modelRound(
  host: ReplyHost,
  turn: Turn,
  messages: ChatMessage[],
  out: SentenceQueue,
  signal: AbortSignal,
  round: number,
): Promise<ToolCall[]> {
  const splitter = new SentenceSplitter();
  let calls: ToolCall[] = [];
  try {
    const events = host.llm.streamEvents(
      roundRequest(
        {
          model: host.config.inference_model,
          messages,
          temperature: host.config.temperature,
          maxTokens: host.config.max_tokens,
          signal,
        },
        host.tools,
        round,
      ),
    );
    for await (const event of events) {
      turn.reached.firstToken ??= host.now();
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
