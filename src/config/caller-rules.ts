import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { memoize } from "../memo.ts";

/**
 * Which caller rule a caller meets: the first, in order, whose match holds. Within one match,
 * any listed criterion is enough (countries OR prefixes OR numbers OR anonymous).
 */

export interface CallerMatch {
  /** ISO 3166 alpha-2, from libphonenumber's reading of the caller's number */
  countries?: string[] | undefined;
  /** E.164 prefixes, e.g. "+4420" */
  prefixes?: string[] | undefined;
  /** exact E.164 numbers (a blocklist or an allowlist) */
  numbers?: string[] | undefined;
  /** withheld caller ID */
  anonymous?: true | undefined;
}

export interface CallerRule {
  name: string;
  match: CallerMatch;
  action: "answer" | "reject" | "forward";
  settings?: Record<string, unknown> | undefined;
  to?: string | undefined;
}

/**
 * What Twilio sends as From when the caller ID is withheld: "anonymous", "restricted",
 * "unknown", the special number +266696687 (Lesotho's code, used by carriers for "no ID"), or
 * nothing at all.
 */
const WITHHELD = new Set([
  "",
  "anonymous",
  "restricted",
  "unknown",
  "unavailable",
  "private",
  "+266696687",
  "266696687",
]);

export function isAnonymous(caller: string): boolean {
  return WITHHELD.has(caller.trim().toLowerCase());
}

/** The caller's number as E.164 when it is one (also from a `sip:+44...@host` URI), else null. */
export function callerNumber(caller: string): string | null {
  let raw = caller.trim();
  const sip = /^sips?:([^@;]+)/i.exec(raw);
  if (sip) raw = decodeURIComponent(sip[1] as string);
  if (!/^\+[1-9]\d{6,14}$/.test(raw) || isAnonymous(raw)) return null;
  return raw;
}

// A blocklist may hold a thousand numbers: each list becomes a Set once per cached config.
const numberSets = new WeakMap<string[], Set<string>>();

function numberSet(numbers: string[]): Set<string> {
  let set = numberSets.get(numbers);
  if (!set) {
    set = new Set(numbers);
    numberSets.set(numbers, set);
  }
  return set;
}

// libphonenumber's parse costs more than all the rules together; a caller's country never
// changes, so it is kept per number (bounded: emptied when full).
const COUNTRY_CACHE_SIZE = 10_000;

/** The ISO 3166 alpha-2 country of an E.164 number, from libphonenumber; null when it has none. */
const countryOf = memoize(
  (number: string): string | null => parsePhoneNumberFromString(number)?.country ?? null,
  COUNTRY_CACHE_SIZE,
);

/** The first rule matching `caller` (Twilio's From, or To on an outbound call), or null. */
export function matchCallerRule<R extends CallerRule>(rules: readonly R[], caller: string): R | null {
  if (rules.length === 0) return null;
  const anonymous = isAnonymous(caller);
  const number = anonymous ? null : callerNumber(caller);
  for (const rule of rules) {
    const m = rule.match;
    if (m.anonymous && anonymous) return rule;
    if (number === null) continue;
    if (m.numbers && numberSet(m.numbers).has(number)) return rule;
    if (m.prefixes?.some((p) => number.startsWith(p))) return rule;
    if (m.countries) {
      // libphonenumber only when a rule asks for a country.
      const c = countryOf(number);
      if (c && m.countries.includes(c)) return rule;
    }
  }
  return null;
}
