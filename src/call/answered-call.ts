import { type CallConfig, defaultCallConfig } from "../config/defaults.ts";
import type { E164 } from "../config/phone-number.ts";
import { routeCall } from "../config/routing.ts";
import type { Logger } from "../log.ts";
import type { Services } from "../services.ts";
import type { StartInput } from "./call-state.ts";
import type { CallSnapshot } from "./snapshot.ts";

/**
 * A call's session, started from the snapshot its answer carried: the config version that
 * answered, routed again with the same facts (routing is pure, so the same variant and rule),
 * timed from `answered_at`. An admin edit between the answer and this moment does not change
 * the call. Never throws for a store outage: if that version cannot be found, the call goes on
 * with the number's current config and says so in the log (`call_config_version_unavailable`).
 */
export async function answeredCall(
  services: Pick<Services, "resolver" | "settings">,
  snapshot: CallSnapshot,
  log: Logger,
): Promise<StartInput> {
  const phone = snapshot.to as E164;
  const base = await answeredConfig(services, snapshot, log);
  const routing = routeCall(base, {
    caller: snapshot.caller,
    callSid: snapshot.call_sid,
    at: new Date(snapshot.answered_at),
  });
  if (routing.variant !== snapshot.variant || routing.rule !== snapshot.rule) {
    // Only possible when the answered version was not found (see answeredConfig).
    log.warn("call_routing_differs", {
      variant: routing.variant,
      answered_variant: snapshot.variant,
      rule: routing.rule,
      answered_rule: snapshot.rule,
    });
  }
  return {
    callSid: snapshot.call_sid,
    accountSid: snapshot.account_sid,
    from: snapshot.from,
    to: phone,
    config: routing.effective,
    configSource: snapshot.config_source,
    routing: {
      number_rule: snapshot.number_rule,
      variant: routing.variant,
      rule: routing.rule,
      after_hours: snapshot.after_hours,
    },
    mode: snapshot.mode,
    publicBaseUrl: snapshot.base_url,
    answeredAt: snapshot.answered_at,
  };
}

async function answeredConfig(
  services: Pick<Services, "resolver" | "settings">,
  snapshot: CallSnapshot,
  log: Logger,
): Promise<CallConfig> {
  const phone = snapshot.to as E164;
  // The defaults come from the deployment's settings, not from a stored version.
  if (snapshot.uses_defaults) return defaultCallConfig(services.settings, phone);
  const fields = { call_sid: snapshot.call_sid };
  const found = await services.resolver.resolveVersion(phone, snapshot.config_version, fields);
  if (found.exact) return found.config;
  log.warn("call_config_version_unavailable", {
    version: snapshot.config_version,
    using_version: found.config.version,
  });
  return found.config;
}
