import type { CallDecision } from "../config/call-routing.ts";
import { errorFields, type Logger } from "../log.ts";
import type { FinalCallStatus } from "../twilio/webhook.ts";
import { callLog } from "./call-log.ts";
import type { CallSummary } from "./summary.ts";

/**
 * Calls that never had a session still leave a summary in the call log, with their end reason,
 * so /admin/calls and analytics count them: the ones the agent never answers (a caller rule's
 * reject, a forward), and answered ones that ended before their session was created (the caller
 * hung up during the greeting: the session starts with the Media Stream or the first recording).
 */

/** The fields every session-less call's summary shares, from its routing decision. */
function sessionlessSummary(
  decision: CallDecision,
  call: { callSid: string; from: string },
): Omit<CallSummary, "started_at" | "ended_at" | "duration_seconds" | "end_reason"> {
  const { config, source } = decision.resolved;
  const { routing } = decision;
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
    turns: [],
    number_rule: decision.number.rule,
    variant: routing.variant,
    rule: routing.rule,
    after_hours: routing.after_hours,
  };
}

/** The summary of a rejected or forwarded call, as it stands when the webhook answers. */
export function unansweredSummary(
  decision: CallDecision,
  call: { callSid: string; from: string; at: Date },
): CallSummary {
  const { action } = decision.routing;
  const at = call.at.toISOString();
  const forwarded = action.type === "forward";
  return {
    ...sessionlessSummary(decision, call),
    started_at: at,
    ended_at: at,
    // A forward's duration arrives with Twilio's <Dial action> callback.
    duration_seconds: forwarded ? null : 0,
    end_reason: forwarded ? "forwarded" : "rejected",
    ...(action.type === "forward" && { forwarded_to: action.to }),
  };
}

/**
 * The summary of an answered call that ended before its session was created, from Twilio's
 * final status callback: its CallStatus is the end reason, and it started `durationSeconds`
 * (CallDuration) before `endedAt`.
 */
export function unstartedSummary(
  decision: CallDecision,
  call: { callSid: string; from: string; status: FinalCallStatus; durationSeconds: number; endedAt: Date },
): CallSummary {
  return {
    ...sessionlessSummary(decision, call),
    started_at: new Date(call.endedAt.getTime() - call.durationSeconds * 1000).toISOString(),
    ended_at: call.endedAt.toISOString(),
    duration_seconds: call.durationSeconds,
    end_reason: call.status,
  };
}

/**
 * Writes a session-less call's summary; a failed write is logged (with the call's `call_sid`
 * on `log`, the request's logger), never a failed call. `ifAbsent`: keep an entry the call
 * already has (a rejected call's, written at answer); otherwise idempotent per CallSid.
 */
export async function recordSessionless(
  env: Env,
  summary: CallSummary,
  log: Logger,
  options: { ifAbsent?: boolean } = {},
): Promise<void> {
  try {
    const shard = callLog(env, summary.to);
    if (options.ifAbsent) await shard.recordIfAbsent(summary);
    else await shard.record(summary);
  } catch (err) {
    log.warn("call_log_write_failed", { call_sid: summary.call_sid, ...errorFields(err) });
  }
}
