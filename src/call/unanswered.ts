import type { CallDecision } from "../config/call-routing.ts";
import { errorFields, log } from "../log.ts";
import { callLog } from "./call-log.ts";
import type { CallSummary } from "./summary.ts";

/**
 * Calls the agent never answers (a caller rule's reject, a forward) still leave a summary in
 * the call log, with their end reason, so /admin/calls and analytics count them.
 */

/** The summary of a rejected or forwarded call, as it stands when the webhook answers. */
export function unansweredSummary(
  decision: CallDecision,
  call: { callSid: string; from: string; at: Date },
): CallSummary {
  const { config, source } = decision.resolved;
  const { routing } = decision;
  const at = call.at.toISOString();
  const forwarded = routing.action.type === "forward";
  return {
    call_sid: call.callSid,
    from: call.from,
    to: decision.phoneNumber,
    display_name: config.display_name,
    config_version: config.version,
    config_source: source,
    uses_defaults: config.uses_defaults,
    mode: config.conversation_mode,
    channel: "phone",
    recording_sid: null,
    status: "ended",
    started_at: at,
    ended_at: at,
    // A forward's duration arrives with Twilio's <Dial action> callback.
    duration_seconds: forwarded ? null : 0,
    end_reason: forwarded ? "forwarded" : "rejected",
    turns: [],
    number_rule: decision.number.rule,
    variant: routing.variant,
    rule: routing.rule,
    after_hours: routing.after_hours,
    ...(routing.action.type === "forward" && { forwarded_to: routing.action.to }),
  };
}

/** Writes the summary; a failed write is logged, never a failed call. Idempotent per CallSid. */
export async function recordUnanswered(env: Env, summary: CallSummary): Promise<void> {
  try {
    await callLog(env, summary.to).record(summary);
  } catch (err) {
    log.warn("call_log_write_failed", { call_sid: summary.call_sid, ...errorFields(err) });
  }
}
