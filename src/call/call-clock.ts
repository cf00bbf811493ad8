import type { CallState } from "./call-state.ts";

/**
 * A call's clock, as its Durable Object alarm runs it: max_call_duration counted from the
 * answer (`deadlineAt`), the recording's start attempts, and the finalisation of a call whose
 * status callback never came. Pure: the session shell sets the alarm and acts on what is due.
 */

/** How long we wait for Twilio's status callback after ending a call before finalising anyway, ms. */
export const FINALIZE_GRACE_MS = 60_000;

/** When the alarm should next fire (ms since the epoch), or null when nothing is pending. */
export function nextAlarmAt(state: CallState): number | null {
  const candidates = [
    state.finalizeAt,
    state.recording.nextAt,
    state.endReason === "max_duration" ? null : state.deadlineAt,
  ].filter((t): t is number => t !== null);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

export interface Due {
  /** the grace after our hang-up is over: write the call's end now */
  finalize: boolean;
  /** max_call_duration reached: say goodbye and hang up */
  maxDuration: boolean;
  /** the next attempt to start the recording */
  recording: boolean;
}

/** What is due at `now` (ms since the epoch). */
export function dueAt(state: CallState, now: number): Due {
  const finalize = state.finalizeAt !== null && now >= state.finalizeAt;
  return {
    finalize,
    // A caller connected to a person by a transfer is not cut off by the agent's time limit.
    maxDuration:
      !finalize && now >= state.deadlineAt && state.endReason !== "max_duration" && !state.transfer,
    recording: !finalize && state.recording.nextAt !== null && now >= state.recording.nextAt,
  };
}
