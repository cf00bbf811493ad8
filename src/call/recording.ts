import { errorFields, log } from "../log.ts";
import type { TwilioRest } from "../twilio/rest.ts";

/**
 * Call recording (enable_recording) through Twilio's REST API. A recording can start only once
 * Twilio has answered the call with our TwiML, so the first attempt waits a moment and a refusal
 * is retried a few times with a growing delay, driven by the call session's alarm.
 */

export interface RecordingState {
  wanted: boolean;
  started: boolean;
  attempts: number;
  /** when the next attempt is due (ms since the epoch), or null */
  nextAt: number | null;
  /** Twilio's RecordingSid once it started (absent in calls stored before it was kept) */
  sid?: string;
}

/** Twilio answers the call after our TwiML; a recording can start only once it is in progress. */
const RECORDING_START_DELAY_MS = 1500;
const RECORDING_MAX_ATTEMPTS = 3;
/** Attempt n waits n times this after attempt n failed. */
const RECORDING_RETRY_STEP_MS = 2000;

export function initialRecording(wanted: boolean, now: number): RecordingState {
  return { wanted, started: false, attempts: 0, nextAt: wanted ? now + RECORDING_START_DELAY_MS : null };
}

/** One attempt to start the recording; updates `recording` (including when to try again). Never throws. */
export async function startRecording(
  recording: RecordingState,
  twilio: TwilioRest,
  callSid: string,
  logFields: Record<string, unknown>,
): Promise<void> {
  recording.attempts += 1;
  recording.nextAt = null;
  try {
    const result = await twilio.startRecording(callSid);
    if (result.ok) {
      recording.started = true;
      recording.sid = result.recording.sid;
      log.info("call_recording_started", { ...logFields, recording_sid: result.recording.sid });
      return;
    }
    log.info("call_recording_not_yet_possible", {
      ...logFields,
      reason: result.reason,
      attempt: recording.attempts,
    });
  } catch (err) {
    log.warn("call_recording_failed", { ...logFields, attempt: recording.attempts, ...errorFields(err) });
  }
  if (recording.attempts < RECORDING_MAX_ATTEMPTS) {
    recording.nextAt = Date.now() + RECORDING_RETRY_STEP_MS * recording.attempts;
  }
}
