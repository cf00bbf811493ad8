import type { CallDecision } from "../config/call-routing.ts";
import type { CallConfig } from "../config/defaults.ts";
import type { ConfigSource } from "../config/resolver.ts";
import type { NumberRule } from "../twilio/call-number.ts";
import { seal, unseal } from "./tokens.ts";

/**
 * How a call was answered, signed into the TwiML so the call's session can be created later
 * (when the Media Stream starts, or at the first recording webhook) exactly as answered, with
 * nothing written at answer time. It names the config by version, not by value: the session
 * finds that version again (src/call/answered-call.ts) even if the number changed meanwhile.
 * Readable, not secret (nothing in it is); tamper-evident through its HMAC (src/call/tokens.ts).
 */
export interface CallSnapshot {
  call_sid: string;
  /** the webhook's AccountSid (REST calls use it when TWILIO_ACCOUNT_SID is not set) */
  account_sid: string;
  from: string;
  /** the number the call was for, E.164, or "unknown" */
  to: string;
  /** who routing saw as the caller: From, or To on an outbound call */
  caller: string;
  number_rule: NumberRule;
  /** the version of the number's document that answered (with `uses_defaults`, the defaults' 0) */
  config_version: number;
  /** the call ran on the Worker's defaults (unknown or inactive number, store outage) */
  uses_defaults: boolean;
  config_source: ConfigSource;
  variant: string | null;
  rule: string | null;
  after_hours: boolean;
  mode: CallConfig["conversation_mode"];
  /** when the voice webhook answered, ms since the epoch: the call's clock starts here */
  answered_at: number;
  /** PUBLIC_BASE_URL (or the request's origin) at answer, without a trailing slash */
  base_url: string;
}

/** The snapshot of an answered call's decision. */
export function snapshotOf(
  decision: CallDecision,
  call: { callSid: string; accountSid: string; from: string; answeredAt: number; baseUrl: string },
): CallSnapshot {
  const { effective } = decision.routing;
  return {
    call_sid: call.callSid,
    account_sid: call.accountSid,
    from: call.from,
    to: decision.phoneNumber,
    caller: decision.number.caller,
    number_rule: decision.number.rule,
    config_version: effective.version,
    uses_defaults: effective.uses_defaults,
    config_source: decision.resolved.source,
    variant: decision.routing.variant,
    rule: decision.routing.rule,
    after_hours: decision.routing.after_hours,
    mode: effective.conversation_mode,
    answered_at: call.answeredAt,
    base_url: call.baseUrl,
  };
}

/**
 * The snapshot as a URL-safe signed token. It expires with the call's max_call_duration
 * (`maxCallSeconds`): no session can be created from it after the call could have lasted.
 */
export function sealSnapshot(
  secret: string,
  snapshot: CallSnapshot,
  maxCallSeconds: number,
): Promise<string> {
  return seal(secret, "call", snapshot, snapshot.answered_at + maxCallSeconds * 1000);
}

export type SnapshotCheck =
  | { ok: true; snapshot: CallSnapshot }
  | { ok: false; reason: "expired" | "bad_signature" | "other_call" };

/** The snapshot in `token`, if it is intact, unexpired, and about `callSid`. */
export async function openSnapshot(
  secret: string,
  token: string,
  callSid: string,
  now = Date.now(),
): Promise<SnapshotCheck> {
  const opened = await unseal(secret, "call", token, now);
  if (!opened.ok) return opened;
  // Signed by this deployment: its shape is ours; only whose call it is needs checking.
  const snapshot = opened.value as CallSnapshot;
  return snapshot?.call_sid === callSid ? { ok: true, snapshot } : { ok: false, reason: "other_call" };
}
