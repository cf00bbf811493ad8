import type { RealtimeTimings, TurnRecord } from "../call/summary.ts";
import type { ChatMessage } from "../providers/types.ts";
import type { ToolCallRecord, ToolIntent } from "./tools/index.ts";

/**
 * The stream pipeline's turns (src/conversation/pipeline.ts), each from its transcript until it
 * is reported: what was sent and heard, the tool rounds, how it becomes a call-log record and
 * history messages, and the ledger that reports them in order and keeps the conversation. No
 * I/O and no timers here; the engine owns the timing.
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

/** The conversation kept for the model: the last dozen exchanges, like record→reply mode. */
const MAX_HISTORY_MESSAGES = 24;

/**
 * The conversation so far and the turns not reported yet, in seq order. A turn is reported
 * (through `reported`) once it is settled and every earlier one has been; one whose tool is
 * still running waits for its result. Only then does it join the history.
 */
export class TurnLedger {
  private readonly history: ChatMessage[];
  private readonly pending: Turn[] = [];
  private nextSeq: number;
  private readonly reported: (turn: Turn & { record: TurnRecord }, messages: ChatMessage[]) => void;

  constructor(
    history: readonly ChatMessage[],
    nextSeq: number,
    reported: (turn: Turn & { record: TurnRecord }, messages: ChatMessage[]) => void,
  ) {
    this.history = history.slice(-MAX_HISTORY_MESSAGES);
    this.nextSeq = nextSeq;
    this.reported = reported;
  }

  /** A new turn, next in seq order. */
  start(at: string, endedAt: number, transcript: string | null): Turn {
    const turn = newTurn(this.nextSeq++, at, endedAt, transcript);
    this.pending.push(turn);
    return turn;
  }

  /**
   * What the model answering `turn` sees: the system prompt, the history, earlier turns not
   * reported yet (their audio is still playing), then the caller's words.
   */
  messagesFor(turn: Turn, systemPrompt: string): ChatMessage[] {
    return [
      { role: "system", content: systemPrompt },
      ...this.history,
      ...this.pending.flatMap((t) =>
        t === turn ? [] : historyOf(t, t.record ? t.kept : t.sentences.length),
      ),
      { role: "user", content: turn.transcript ?? "" },
    ];
  }

  /** Words of the agent's outside any turn (the greeting) join the history. */
  remember(messages: ChatMessage[]): void {
    this.history.push(...messages);
    if (this.history.length > MAX_HISTORY_MESSAGES) {
      this.history.splice(0, this.history.length - MAX_HISTORY_MESSAGES);
      // A tool result whose call was cut off would be refused by the model's API.
      while (this.history[0]?.role === "tool") this.history.shift();
    }
  }

  /** These marks came back, in order: their turns' sentences were heard. */
  played(marks: ReadonlyArray<{ turn?: Turn; heard?: number }>): void {
    for (const mark of marks) {
      const turn = mark.turn;
      if (!turn) continue;
      turn.marksOut -= 1;
      if (mark.heard !== undefined) turn.heard = Math.max(turn.heard, mark.heard);
      if (turn.state === "sent" && turn.marksOut === 0 && !turn.record) completed(turn);
    }
    this.report();
  }

  /** All of the turn's reply has been sent; it is over once its marks are back. */
  sent(turn: Turn): void {
    turn.state = "sent";
    if (turn.marksOut === 0 && !turn.record) completed(turn);
    this.report();
  }

  /** A provider failed the turn: its spoken part is recorded, nothing of it joins the history. */
  failed(turn: Turn, stage: "stt" | "llm" | "tts"): void {
    settleTurn(turn, { outcome: "failed", failed_stage: stage }, null);
    this.report();
  }

  /** A barge-in: every unsettled turn keeps what the caller heard of it (report() follows). */
  interrupted(): void {
    for (const turn of this.pending) {
      if (!turn.record) settleTurn(turn, { outcome: "reply", interrupted: true }, turn.heard);
    }
  }

  /** The call ended: whether the audio already sent was played cannot be known; it counts as heard. */
  closed(): void {
    for (const turn of this.pending) {
      if (turn.record) continue;
      settleTurn(turn, { outcome: "reply", interrupted: turn.state === "replying" }, turn.sentences.length);
    }
    this.report();
  }

  /** Report finished turns in seq order (one whose tool is still running waits for its result). */
  report(): void {
    for (let turn = this.pending[0]; turn?.record && !turn.toolsRunning; turn = this.pending[0]) {
      this.pending.shift();
      // A barge-in may have settled the turn before its tool's result came in.
      if (turn.tools.length > 0) turn.record.tools = turn.tools;
      const messages = historyOf(turn, turn.kept);
      this.remember(messages);
      this.reported(turn as Turn & { record: TurnRecord }, messages);
    }
  }
}

/** Every sentence was sent and has been heard. */
function completed(turn: Turn): void {
  settleTurn(turn, { outcome: "reply" }, turn.sentences.length);
}
