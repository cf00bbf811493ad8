import type { LogFields } from "../log.ts";
import type { Services } from "../services.ts";
import type { CallNumber } from "../twilio/call-number.ts";
import { defaultCallConfig } from "./defaults.ts";
import type { E164 } from "./phone-number.ts";
import type { ResolvedConfig } from "./resolver.ts";
import { type Routing, routeCall } from "./routing.ts";

/**
 * The decision a call gets, for the voice webhook and for the admin preview alike: the
 * number's config through the resolver (memory → KV → store → defaults), then `routeCall`.
 * Never throws: the resolver falls back to defaults and routing is pure. Logs one line,
 * `call_routed`, through the request's logger (`services.log`), with `call_sid`, `logFields`,
 * where the config came from (`source`, `version`, `uses_defaults`, `display_name`,
 * `resolve_ms`) and what routing decided.
 */

export interface CallDecision {
  number: CallNumber;
  /** what the call's log lines and records call the number: E.164, or "unknown" */
  phoneNumber: string;
  resolved: ResolvedConfig;
  routing: Routing;
}

/** Stands in for the number of a call no rule could place (a client or SIP call without one). */
export const UNKNOWN_NUMBER = "unknown";

export async function decideCall(
  services: Services,
  number: CallNumber,
  call: { callSid: string; at: Date },
  logFields: LogFields = {},
): Promise<CallDecision> {
  const fields = { call_sid: call.callSid, ...logFields };
  const started = Date.now();
  const resolved: ResolvedConfig = number.phone
    ? await services.resolver.resolve(number.phone, fields)
    : { config: defaultCallConfig(services.settings, UNKNOWN_NUMBER as E164), source: "default" };
  const routing = routeCall(resolved.config, { caller: number.caller, callSid: call.callSid, at: call.at });
  const phoneNumber = number.phone ?? UNKNOWN_NUMBER;
  services.log.info("call_routed", {
    ...fields,
    phone_number: phoneNumber,
    source: resolved.source,
    uses_defaults: resolved.config.uses_defaults,
    version: resolved.config.version,
    display_name: resolved.config.display_name,
    resolve_ms: Date.now() - started,
    number_rule: number.rule,
    variant: routing.variant,
    rule: routing.rule,
    after_hours: routing.after_hours,
    action: routing.action.type,
  });
  return { number, phoneNumber, resolved, routing };
}
