import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js/min";
import { AppError } from "../errors.ts";

/** A phone number in E.164 form (`+18668134984`); only `normalizePhoneNumber` makes one. */
export type E164 = string & { readonly __brand: "E164" };

/**
 * Normalises any spelling Twilio, an admin or a URL may use to E.164: `+1 (866) 813-4984`,
 * `18668134984`, `%2B18668134984` and `8668134984` (with country US) are all `+18668134984`.
 */
export function normalizePhoneNumber(input: string, defaultCountry: string, field = "phone_number"): E164 {
  let raw = input.trim();
  if (/%[0-9a-f]{2}/i.test(raw)) {
    try {
      raw = decodeURIComponent(raw).trim();
    } catch (cause) {
      throw invalid(input, field, "is not valid URL encoding", cause);
    }
  }
  // A `+` decoded from a form or query string as a space: ` 18668134984`.
  if (input.startsWith(" ") && /^\d/.test(raw)) raw = `+${raw}`;
  if (raw === "" || !/^[+\d\s().\-/]+$/.test(raw))
    throw invalid(input, field, "must contain only digits and + ( ) - . /");

  const digits = raw.replace(/\D/g, "");
  // Without a `+`, a valid national reading wins (`8668134984`, `18668134984` in the US),
  // then a valid international one (`442071838750`), then anything merely possible.
  const candidates = raw.startsWith("+")
    ? [parsePhoneNumberFromString(`+${digits}`)]
    : [
        parsePhoneNumberFromString(digits, defaultCountry as CountryCode),
        parsePhoneNumberFromString(`+${digits}`),
      ];
  const parsed = candidates.find((p) => p?.isValid()) ?? candidates.find((p) => p?.isPossible());
  if (!parsed?.isPossible()) throw invalid(input, field, "is not a possible phone number");
  return parsed.number as E164;
}

function invalid(input: string, field: string, rule: string, cause?: unknown): AppError {
  return new AppError("INVALID_PHONE_NUMBER", `${field} ${rule}: ${JSON.stringify(input)}`, {
    details: [{ field, rule: "e164", message: `${rule}` }],
    cause,
  });
}
