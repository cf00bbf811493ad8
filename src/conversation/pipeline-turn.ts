import type { RealtimeTimings, TurnRecord } from "../call/summary.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { ToolCallRecord, ToolIntent } from "./tools/index.ts";

/**
 * One caller turn of the stream pipeline (src/conversation/pipeline.ts), from its transcript
 * until it is reported: what was sent and heard, the tool rounds, and how it becomes a call-log
 * record and history messages. Plain data and pure functions; the engine owns the timing.
 */

/** deps.now() when the turn reached each step. */
export interface Reached {
  transcript?: number;
  firstToken?: number;
  firstAudio?: number;
  firstFrame?: number;
}

/** An answered utterance from its transcript until it is reported through onTurn. */
export interface Turn {
  seq: number;
  at: string;
  transcript: string | null;
  /** deps.now() when the end of speech was detected: what the turn's timings count from */
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

/** A turn that has only its transcript so far. */
export function newTurn(seq: number, at: string, endedAt: number, transcript: string | null): Turn {
  return {
    seq,
    at,
    transcript,
    endedAt,
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
}

/**
 * Fix the turn's record. `heard`: how many sentences the caller heard, which the record and
 * the history keep (null: a failed turn, whose spoken part is recorded but leaves no trace
 * in the history).
 */
export function settleTurn(
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

/**
 * A turn as the history keeps it, `kept` sentences heard: the caller's words, the tool rounds,
 * then what was heard of the final answer (null: nothing, a failed turn).
 */
export function historyOf(turn: Turn, kept: number | null): ChatMessage[] {
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
