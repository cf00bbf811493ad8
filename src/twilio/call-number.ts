import { callerNumber } from "../config/caller-rules.ts";
import { type E164, normalizePhoneNumber } from "../config/phone-number.ts";
import { memoize } from "../memo.ts";
import type { IncomingCallEvent } from "./webhook.ts";

/**
 * Which of our numbers a call is for, read from Twilio's incoming-call webhook:
 * - `to`: a plain PSTN call, `To` is our number;
 * - `sip_user`: `To` is a SIP URI (`sip:+18005550105@example.sip.twilio.com;transport=udp`)
 *   whose user part is a possible phone number;
 * - `from_outbound`: a call we placed (`Direction` outbound-api or outbound-dial): our number
 *   is `From`;
 * - `client_default`: a Twilio Voice SDK call (`From=client:alice`, no phone number in `To`):
 *   DEFAULT_CLIENT_NUMBER's config when set, the defaults when not.
 * `phone` is null when the rule found no number: the call runs with the defaults.
 */

export type NumberRule = "to" | "sip_user" | "from_outbound" | "client_default";

export interface CallNumber {
  phone: E164 | null;
  rule: NumberRule;
  /** the other party, as caller rules see it: From, or To on an outbound call */
  caller: string;
}

/**
 * `raw` as E.164 if it is a possible number (in `country` when it has no +), else null.
 * libphonenumber's parse costs more than the rest of the voice webhook's routing, and a
 * deployment's numbers are few: each (country, raw) is parsed once per isolate.
 */
function possible(raw: string, country: string): E164 | null {
  return possibleNumber(`${country}\n${raw}`);
}

const possibleNumber = memoize((key: string): E164 | null => {
  // A country code never holds a newline; the raw number might.
  const at = key.indexOf("\n");
  try {
    return normalizePhoneNumber(key.slice(at + 1), key.slice(0, at), "To");
  } catch {
    return null;
  }
}, 10_000);

function sipUser(uri: string): string | null {
  const m = /^sips?:([^@;]+)@/i.exec(uri.trim());
  if (!m) return null;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return null;
  }
}

export function callNumber(
  event: Pick<IncomingCallEvent, "to" | "from" | "direction">,
  options: { defaultCountry: string; defaultClientNumber?: string | undefined },
): CallNumber {
  const { defaultCountry } = options;
  if (event.direction === "outbound-api" || event.direction === "outbound-dial") {
    return { phone: possible(event.from, defaultCountry), rule: "from_outbound", caller: event.to };
  }
  const to = event.to.trim();
  if (/^sips?:/i.test(to)) {
    const user = sipUser(to);
    return {
      phone: user ? possible(user, defaultCountry) : null,
      rule: "sip_user",
      caller: callerNumber(event.from) ?? event.from,
    };
  }
  const toNumber = to ? possible(to, defaultCountry) : null;
  if (!toNumber && (to === "" || /^client:/i.test(event.from) || /^client:/i.test(to))) {
    const fallback = options.defaultClientNumber;
    return {
      phone: fallback ? possible(fallback, defaultCountry) : null,
      rule: "client_default",
      caller: event.from,
    };
  }
  return { phone: toNumber, rule: "to", caller: event.from };
}
