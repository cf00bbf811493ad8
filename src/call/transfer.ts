import { TRANSFER_TOOL_NAME } from "../config/tools.ts";
import type { ToolIntent } from "../conversation/tools/index.ts";
import { errorFields, type Logger } from "../log.ts";
import { transferTwiml } from "../twilio/call-twiml.ts";
import { TwilioError, type TwilioRest } from "../twilio/rest.ts";
import type { DialCallStatus } from "../twilio/webhook.ts";
import { Budget } from "./budget.ts";
import type { CallState, StoredTurn } from "./call-state.ts";
import { type CallReply, PHRASES, type Speech } from "./reply.ts";

/**
 * Transfers to a person (the transfer tool). Stream mode leaves the Media Stream for a <Dial>
 * through a REST call update; turns mode answers <Dial> itself. Then Twilio reports how the
 * dialled call ended: connected, the call is over; busy, unanswered or failed, the caller is back
 * with the agent, which says so and goes on.
 */

/** What a transfer needs from the call session that holds it. */
export interface TransferHost {
  /** the call (null once it has ended) */
  state(): CallState | null;
  turns(): StoredTurn[];
  /** Persist the turn at `index` of turns() after a change. */
  saveTurn(index: number): void;
  save(): void;
  twilio(): TwilioRest;
  /** Persist a reply's effect on the call (and arm a hang-up's finalisation). */
  afterReply(reply: CallReply): CallReply;
  /** turns mode: `text` in the number's voice */
  say(text: string, budget: Budget): Promise<Speech>;
  log(): Logger;
}

export class Transfers {
  private readonly host: TransferHost;

  constructor(host: TransferHost) {
    this.host = host;
  }

  /**
   * Stream mode: the transfer's announcement has played. The live call leaves the Media Stream
   * for the <Dial> (REST update); the dial webhook brings the outcome. `seq`: the turn that asked.
   * False when Twilio did not move the call: the caller is still on the stream and the engine
   * tells them. When Twilio refused (an error answer, or the call had ended), the turn's
   * transfer record says `failed`: no <Dial> was placed. A timeout or an unreadable answer
   * (the update may have happened) leaves it without an outcome.
   */
  async start(intent: Extract<ToolIntent, { kind: "transfer" }>, seq: number): Promise<boolean> {
    const state = this.host.state();
    if (!state) return false;
    state.transfer = { seq, target: { name: intent.target.name, to: intent.target.to } };
    this.host.save();
    const target = {
      to: intent.target.to,
      ...(intent.target.caller_id && { callerId: intent.target.caller_id }),
    };
    // Whether Twilio surely did not move the call (it answered no, or nothing was sent), as
    // opposed to an outcome we cannot know (a timeout, a lost connection, an unreadable answer).
    let refused = false;
    try {
      const result = await this.host.twilio().updateCall(state.callSid, {
        twiml: transferTwiml(target, `${state.publicBaseUrl}/webhooks/twilio/dial`),
      });
      this.host.log().info("call_transfer_started", { target: intent.target.name, ok: result.ok });
      if (!result.ok) state.transfer = null;
      refused = !result.ok;
    } catch (err) {
      this.host.log().error("call_transfer_failed", { target: intent.target.name, ...errorFields(err) });
      state.transfer = null;
      refused = err instanceof TwilioError && (err.kind === "http" || err.kind === "misconfigured");
    }
    if (refused) this.recordOutcome(seq, "failed", null);
    this.host.save();
    return state.transfer !== null;
  }

  /**
   * Twilio's <Dial action>: how the transfer ended. Connected: the call ends with the dialled
   * call. Otherwise the caller is back with the agent, who says so: in turns mode in this reply,
   * in stream mode first thing on the new Media Stream (`stream: true`: answer <Connect><Stream>).
   */
  async dialEnded(status: DialCallStatus): Promise<{ reply: CallReply; stream: boolean }> {
    const state = this.host.state();
    if (!state) return { reply: { speech: [], next: "hangup", turns: 0 }, stream: false };
    const turns = this.host.turns();
    const transfer = state.transfer;
    state.transfer = null;
    const connected = transferConnected(status);
    const phrase = connected || !transfer ? null : transferFailedPhrase(transfer.target.name, status);
    if (transfer) this.recordOutcome(transfer.seq, status, phrase);
    this.host.log().info("call_transfer_ended", { dial_status: status, target: transfer?.target.name });
    if (connected) {
      state.endReason = "transferred";
      return {
        reply: this.host.afterReply({ speech: [], next: "hangup", turns: turns.length }),
        stream: false,
      };
    }
    const text = phrase ?? PHRASES.apology;
    if (state.mode !== "turns") {
      state.resume = text;
      this.host.save();
      return { reply: { speech: [], next: "listen", turns: turns.length }, stream: true };
    }
    const speech = await this.host.say(text, Budget.fromNow(5000));
    return {
      reply: this.host.afterReply({ speech: [speech], next: "listen", turns: turns.length }),
      stream: false,
    };
  }

  /** The outcome on the transfer record of turn `seq` (and `phrase` in its history), if stored. */
  private recordOutcome(seq: number, status: DialCallStatus, phrase: string | null): void {
    const turns = this.host.turns();
    const index = turns.findIndex((t) => t.record.seq === seq);
    const turn = turns[index];
    if (!turn) return;
    turns[index] = withDialOutcome(turn, status, phrase);
    this.host.saveTurn(index);
  }
}

/** The target took the call (Twilio says "completed" once that call has ended). */
export function transferConnected(status: DialCallStatus): boolean {
  return status === "completed" || status === "answered";
}

/** What the agent says when the caller comes back from a transfer that did not connect. */
export function transferFailedPhrase(targetName: string, status: DialCallStatus): string {
  const what =
    status === "busy"
      ? `${targetName} is busy right now`
      : status === "no-answer"
        ? `${targetName} didn't answer`
        : `I couldn't connect you to ${targetName}`;
  return `Sorry, ${what}. Is there anything else I can help you with?`;
}

/**
 * The turn that asked for the transfer, with the <Dial> outcome on its transfer record and, when
 * the caller is back, the agent's words in its history (so the model knows what happened).
 */
export function withDialOutcome(turn: StoredTurn, status: DialCallStatus, phrase: string | null): StoredTurn {
  const tools = turn.record.tools?.map((t) => ({ ...t }));
  const transfer = tools?.findLast((t) => t.name === TRANSFER_TOOL_NAME && t.target);
  if (transfer) transfer.dial_outcome = status;
  return {
    ...turn,
    record: { ...turn.record, ...(tools && { tools }) },
    ...(turn.messages &&
      phrase && { messages: [...turn.messages, { role: "assistant" as const, content: phrase }] }),
  };
}
