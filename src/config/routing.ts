import { matchCallerRule } from "./caller-rules.ts";
import type { CallConfig } from "./defaults.ts";
import { isOpen } from "./schedule.ts";
import type { PartialSettings } from "./schema.ts";

/**
 * Who the caller meets: the one function the voice webhook and
 * `POST /admin/phone-config/{n}/preview` both run, so a preview never disagrees with a call.
 * Pure: the same (config, caller, time, CallSid) always gives the same answer.
 *
 * Order: the base config, then the schedule (after hours: its settings, or a forward), then
 * the first matching caller rule (its settings; `reject` and `forward` override the
 * schedule), then the variant picked by a stable hash of the CallSid. Variants apply only to
 * calls that are answered.
 */

export type RoutingAction = { type: "answer" } | { type: "reject" } | { type: "forward"; to: string };

export interface CallFacts {
  /** the other party: Twilio's From (To on an outbound call) */
  caller: string;
  callSid: string;
  at: Date;
}

export interface Routing {
  /** the config the call runs with, layers merged, routing fields removed */
  effective: CallConfig;
  variant: string | null;
  /** the caller rule that matched */
  rule: string | null;
  after_hours: boolean;
  action: RoutingAction;
}

/**
 * A CallSid's bucket, 0–99: FNV-1a over its characters, then MurmurHash3's finaliser to spread
 * the bits (CallSids share their "CA" prefix and hex alphabet). Stable across isolates and
 * deploys, so Twilio's retries and every later webhook of a call land in the same variant.
 */
export function callBucket(callSid: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < callSid.length; i++) {
    h ^= callSid.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 100;
}

/** The variant whose cumulative weight range holds the CallSid's bucket. */
export function pickVariant<V extends { weight: number }>(variants: readonly V[], callSid: string): V | null {
  if (variants.length === 0) return null;
  const bucket = callBucket(callSid);
  let upTo = 0;
  for (const v of variants) {
    upTo += v.weight;
    if (bucket < upTo) return v;
  }
  return null;
}

/** Decides the call. Never throws for a config the schema accepted. */
export function routeCall(config: CallConfig, call: CallFacts): Routing {
  const { variants, schedule, caller_rules, ...base } = config;
  const layers: (PartialSettings | undefined)[] = [];
  let action: RoutingAction = { type: "answer" };

  const afterHours = schedule ? !isOpen(schedule, call.at) : false;
  if (schedule && afterHours) {
    const after = schedule.after_hours;
    if ("settings" in after) layers.push(after.settings);
    else action = { type: "forward", to: after.to };
  }

  const rule = matchCallerRule(caller_rules ?? [], call.caller);
  if (rule?.action === "reject") action = { type: "reject" };
  else if (rule?.action === "forward" && rule.to) action = { type: "forward", to: rule.to };
  else if (rule?.action === "answer") layers.push(rule.settings);

  const variant = action.type === "answer" ? pickVariant(variants ?? [], call.callSid) : null;
  if (variant) layers.push(variant.settings);

  const effective: CallConfig = Object.assign({}, base, ...layers);
  return {
    effective,
    variant: variant?.name ?? null,
    rule: rule?.name ?? null,
    after_hours: afterHours,
    action,
  };
}
