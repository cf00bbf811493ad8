import type { E164 } from "../../config/phone-number.ts";
import { phoneOf } from "../../config/service.ts";
import { AppError } from "../../errors.ts";
import type { Services } from "../../services.ts";

/**
 * The Number filter of the Calls and Analytics pages. A number that does not parse is shown at
 * the field (the page answers 400 with the rest of its filters kept), never as a bare error page.
 */
export interface NumberFilter {
  /** what the person typed, trimmed (or the E.164 form once it parses) */
  value: string;
  /** the E.164 number to filter by; undefined for "all numbers" or when `error` is set */
  phone?: E164;
  /** why `value` is not a phone number, from normalizePhoneNumber */
  error?: string;
}

/** Reads `raw` (the `number` query parameter); throws only what is not a phone-number error. */
export function readNumberFilter(services: Services, raw: string | undefined): NumberFilter {
  const value = (raw ?? "").trim();
  if (!value) return { value };
  try {
    const phone = phoneOf(services, value, "number");
    return { value: phone, phone };
  } catch (err) {
    if (!(err instanceof AppError) || err.status !== 400) throw err;
    return { value, error: err.details[0]?.message ?? err.message };
  }
}

/** The labelled search field, with the error below it and tied to it for screen readers. */
export function NumberField({ filter, placeholder }: { filter: NumberFilter; placeholder: string }) {
  return (
    <div class="field">
      <label for="number">Number</label>
      <input
        id="number"
        name="number"
        type="search"
        value={filter.value}
        placeholder={placeholder}
        aria-invalid={filter.error ? "true" : undefined}
        aria-describedby={filter.error ? "number-error" : undefined}
      />
      {filter.error && (
        <p class="error" id="number-error">
          {filter.error}
        </p>
      )}
    </div>
  );
}
