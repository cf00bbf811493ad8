import { errorFields, type Logger } from "../log.ts";
import { goodbyeTwiml } from "../twilio/call-twiml.ts";
import type { TwilioRest } from "../twilio/rest.ts";
import { FINALIZE_GRACE_MS } from "./call-clock.ts";
import { callLog } from "./call-log.ts";
import type { CallState, StoredTurn } from "./call-state.ts";
import { type CallSummary, type EndReason, summarize } from "./summary.ts";

/**
 * How a call ends: we hang up (max_call_duration, silence, errors, the end_call tool) with a
 * goodbye through Twilio's REST API; the stream stops; Twilio's status callback arrives; or the
 * alarm gives up waiting for it. Whichever comes first writes the call's summary to the call log,
 * once, and the session frees its storage.
 */

/** What ending a call needs from the call session that holds it. */
export interface EndingHost {
  /** the call (null once it has ended) */
  state(): CallState | null;
  turns(): readonly StoredTurn[];
  save(): void;
  twilio(): TwilioRest;
  scheduleAlarm(): Promise<void>;
  /** Stop the conversation engine and wait for its last turn to be stored. */
  closeStream(): Promise<void>;
  /** The call is written: delete its storage and alarm, close its sockets, forget it. */
  clear(): Promise<void>;
  log(): Logger;
}

export class CallEnding {
  private readonly host: EndingHost;
  private readonly env: Env;
  /** the call's end being written (see finalize) */
  private finalizing: Promise<CallSummary> | null = null;

  constructor(env: Env, host: EndingHost) {
    this.env = env;
    this.host = host;
  }

  /**
   * Ends the call from our side through Twilio's REST API, with a goodbye in Twilio's voice
   * ("": just hang up). Twilio's status callback then finalises the call with `reason`; if it
   * never comes, the alarm does after FINALIZE_GRACE_MS. A browser test call just ends.
   */
  async hangUp(reason: EndReason, goodbye: string): Promise<void> {
    const state = this.host.state();
    // The call may have ended on its own before a deferred hang-up ran.
    if (!state) return;
    state.endReason = reason;
    if (state.channel === "web") {
      this.host.log().info("call_hung_up", { reason });
      await this.streamStopped(reason);
      return;
    }
    state.finalizeAt = Date.now() + FINALIZE_GRACE_MS;
    try {
      const result = await this.host.twilio().updateCall(state.callSid, { twiml: goodbyeTwiml(goodbye) });
      if (result.ok) {
        this.host.log().info("call_hung_up", { reason });
      } else {
        // Already over: nothing to hang up, and Twilio's status callback may never come.
        this.host.log().info("call_already_ended", { reason: result.reason });
        state.finalizeAt = Date.now();
      }
    } catch (err) {
      this.host.log().error("call_end_failed", { reason, ...errorFields(err) });
    }
    this.host.save();
    await this.host.scheduleAlarm();
  }

  /**
   * The Media Stream (or browser socket) is over. A transfer takes the call off the stream: the
   * call goes on until the <Dial> ends. Otherwise the call ends with `reason`, unless we had
   * already ended it for a reason of our own.
   */
  async streamStopped(reason: EndReason): Promise<void> {
    if (!this.host.state()) return;
    await this.host.closeStream();
    // The call may have been ended meanwhile (Twilio's status callback).
    const state = this.host.state();
    if (!state) return;
    if (state.transfer) {
      state.stream = { streamSid: null, tokenUsed: false };
      this.host.save();
      return;
    }
    await this.finalize(state.endReason ?? reason);
  }

  /**
   * Ends the call once: a `stop`, the socket closing and Twilio's status callback often come
   * together, and the first reason is the one the call log keeps (a later caller gets the same
   * summary, not a second write over it). `durationSeconds`: Twilio's CallDuration, if known.
   */
  finalize(reason: EndReason, durationSeconds?: number): Promise<CallSummary> {
    this.finalizing ??= this.writeFinalSummary(reason, durationSeconds).finally(() => {
      this.finalizing = null;
    });
    return this.finalizing;
  }

  private async writeFinalSummary(reason: EndReason, durationSeconds?: number): Promise<CallSummary> {
    const state = this.host.state();
    if (!state) throw new Error("this call session holds no call");
    void this.host.closeStream();
    const summary = summarize(state, this.host.turns(), reason, durationSeconds);
    await callLog(this.env, summary.to).record(summary);
    this.host.log().info("call_ended", {
      end_reason: reason,
      duration_seconds: summary.duration_seconds,
      turns: summary.turns.length,
    });
    await this.host.clear();
    return summary;
  }
}
