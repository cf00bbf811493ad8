import { type ToolRunner, toolLogFields } from "../conversation/tools/index.ts";
import { errorFields, type Logger } from "../log.ts";
import type { OpenAIProviders } from "../providers/openai.ts";
import type { TwilioRest } from "../twilio/rest.ts";
import { type AudioStore, replyAudioId } from "./audio-store.ts";
import { Budget, WEBHOOK_BUDGET_MS } from "./budget.ts";
import { type CallState, historyOf, MAX_FAILURES, MAX_SILENCES, type StoredTurn } from "./call-state.ts";
import { type CallReply, PHRASES, type Speech, saying } from "./reply.ts";
import type { TurnRecord } from "./summary.ts";
import { runTurn, type TurnTools } from "./turn.ts";

/**
 * conversation_mode "turns": Twilio records the caller (<Record>), the recording webhook brings
 * the recording here, and the answer is TwiML that plays the reply and records again. Each turn
 * is stored under its webhook's key before it is answered, so a Twilio retry gets the same reply.
 */

/** What turns mode needs from the call session that holds it. */
/** One recording webhook: `recordingUrl` null when the caller said nothing at all. */
export interface TurnRequest {
  /** RecordingSid (or "no-speech:<n>"): a retried webhook finds its answer by it */
  key: string;
  recordingUrl: string | null;
  /** Twilio's RecordingDuration, in whole seconds */
  recordingSeconds?: number;
}

export interface TurnsHost {
  state(): CallState;
  turns(): readonly StoredTurn[];
  /** Persist a finished turn. */
  storeTurn(stored: StoredTurn): void;
  /** Persist the call state after a reply (and arm the hang-up's finalisation). */
  afterReply(reply: CallReply): CallReply;
  providers(): OpenAIProviders;
  twilio(): TwilioRest;
  audioStore(): AudioStore;
  /** the number's tools for this call (null: none) */
  tools(): ToolRunner | null;
  /** the call's logger (every line carries call_sid) */
  log(): Logger;
}

export class TurnsMode {
  private readonly host: TurnsHost;
  /** A Twilio retry arriving while the first delivery is still being answered waits for it. */
  private readonly inFlight = new Map<string, Promise<CallReply>>();

  constructor(host: TurnsHost) {
    this.host = host;
  }

  /** `text` in the number's voice (mp3 for <Play>), or in Twilio's voice if synthesis fails. */
  async say(text: string, budget: Budget): Promise<Speech> {
    const { config } = this.host.state();
    try {
      const audio = await this.host.providers().tts.synthesize({
        text,
        model: config.tts_model,
        voice: config.tts_voice,
        format: "mp3",
        signal: budget.signal(4500, 0),
      });
      const id = replyAudioId();
      await this.host.audioStore().put(id, audio, "reply");
      return { text, audioId: id };
    } catch (err) {
      this.host.log().warn("turn_tts_fell_back_to_say", { ...errorFields(err) });
      return saying(text);
    }
  }

  /** One caller turn from the recording webhook (`recordingUrl` null: the caller said nothing). */
  turn(input: TurnRequest): Promise<CallReply> {
    const done = this.host.turns().find((t) => t.key === input.key);
    if (done) return Promise.resolve(done.reply);
    let pending = this.inFlight.get(input.key);
    if (!pending) {
      pending = this.answerRecording(input).finally(() => this.inFlight.delete(input.key));
      this.inFlight.set(input.key, pending);
    }
    return pending;
  }

  private async answerRecording(input: TurnRequest): Promise<CallReply> {
    const state = this.host.state();
    const budget = Budget.fromNow(WEBHOOK_BUDGET_MS);
    const seq = this.host.turns().length + 1;
    const at = new Date().toISOString();
    if (Date.now() >= state.deadlineAt) {
      // Not a turn of the conversation: the goodbye the alarm may not have delivered yet.
      state.endReason = "max_duration";
      return this.host.afterReply({
        speech: [saying(PHRASES.goodbyeDuration)],
        next: "hangup",
        turns: seq - 1,
      });
    }
    if (input.recordingUrl === null) return this.silentTurn(input.key, seq, at, zeroTimings());

    const recordingUrl = input.recordingUrl;
    const twilio = this.host.twilio();
    const audio = this.host.audioStore();
    const turnLog = this.host.log().with({ seq });
    const outcome = await runTurn(
      {
        ...this.host.providers(),
        fetchRecording: (retryUntil) =>
          twilio.fetchRecording(recordingUrl, { format: "wav", retryUntil, log: turnLog }),
        storeAudio: async (bytes) => {
          const id = replyAudioId();
          await audio.put(id, bytes, "reply");
          return id;
        },
        tools: this.host.tools(),
        now: Date.now,
      },
      {
        config: state.config,
        history: historyOf(this.host.turns()),
        budget,
        log: turnLog,
        ...(input.recordingSeconds !== undefined && { recordingSeconds: input.recordingSeconds }),
      },
    );

    if (outcome.kind === "silence") return this.silentTurn(input.key, seq, at, outcome.timings);
    if (outcome.kind === "failed") {
      state.failures += 1;
      const giveUp = state.failures >= MAX_FAILURES;
      if (giveUp) state.endReason = "errors";
      return this.finishTurn(
        input.key,
        {
          seq,
          at,
          outcome: "failed",
          failed_stage: outcome.stage,
          transcript: outcome.transcript ?? null,
          reply: null,
          timings: outcome.timings,
        },
        [saying(giveUp ? PHRASES.goodbyeErrors : PHRASES.apology)],
        giveUp ? "hangup" : "listen",
      );
    }
    state.failures = 0;
    state.silences = 0;
    turnLog.info("turn_answered", {
      ...outcome.timings,
      tts_fallback: outcome.speech.some((piece) => piece.audioId === null),
      ...toolLogFields(outcome.tools?.records),
    });
    const tools = outcome.tools;
    const intent = tools?.intent ?? null;
    if (intent?.kind === "end_call") state.endReason = "agent_hangup";
    if (intent?.kind === "transfer") {
      state.transfer = { seq, target: { name: intent.target.name, to: intent.target.to } };
    }
    return this.finishTurn(
      input.key,
      {
        seq,
        at,
        outcome: "reply",
        transcript: outcome.transcript,
        reply: outcome.reply,
        timings: outcome.timings,
        ...(tools && { tools: tools.records }),
      },
      outcome.speech,
      intent?.kind === "end_call" ? "hangup" : intent?.kind === "transfer" ? "dial" : "listen",
      tools && turnMessages(outcome.transcript, tools),
      intent?.kind === "transfer"
        ? { to: intent.target.to, ...(intent.target.caller_id && { callerId: intent.target.caller_id }) }
        : undefined,
    );
  }

  private silentTurn(key: string, seq: number, at: string, timings: TurnRecord["timings"]): CallReply {
    const state = this.host.state();
    state.silences += 1;
    const giveUp = state.silences >= MAX_SILENCES;
    if (giveUp) state.endReason = "silence";
    return this.finishTurn(
      key,
      { seq, at, outcome: "silence", transcript: null, reply: null, timings },
      [saying(giveUp ? PHRASES.goodbyeSilence : PHRASES.reprompt)],
      giveUp ? "hangup" : "listen",
    );
  }

  /** Stores the turn under its key, so a retried webhook gets this same reply. */
  private finishTurn(
    key: string,
    record: TurnRecord,
    speech: Speech[],
    next: CallReply["next"],
    messages?: StoredTurn["messages"],
    dial?: CallReply["dial"],
  ): CallReply {
    const reply: CallReply = { speech, next, turns: record.seq, ...(dial && { dial }) };
    this.host.storeTurn({ key, record, reply, ...(messages && { messages }) });
    return this.host.afterReply(reply);
  }
}

/** A turn with tool rounds as the history keeps it: the caller, the rounds, the final answer. */
function turnMessages(transcript: string, tools: TurnTools): NonNullable<StoredTurn["messages"]> {
  return [
    { role: "user", content: transcript },
    ...tools.rounds,
    ...(tools.finalText ? [{ role: "assistant" as const, content: tools.finalText }] : []),
  ];
}

function zeroTimings() {
  return { recording_ms: 0, stt_ms: 0, llm_ms: 0, tts_ms: 0, total_ms: 0 };
}
