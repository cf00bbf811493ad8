import type { z } from "@hono/zod-openapi";
import type { ErrorDetail } from "../../errors.ts";

/**
 * A number's settings as an HTML form, derived from the API's own zod schema so that every
 * field the API accepts has an input (fields added to the schema appear here by themselves)
 * and a form post becomes exactly the JSON body the API would get. Scalars get a typed
 * input; structured fields (objects, arrays) a JSON editor checked by the same schema.
 */

export type FieldKind = "text" | "textarea" | "number" | "checkbox" | "select" | "json";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  label: string;
  hint?: string;
  /** the schema's own bounds, mirrored on the input so the browser can help too */
  min?: number;
  max?: number;
  integer?: boolean;
  maxLength?: number;
  options?: readonly string[];
  /** a create must give it (no default in the schema) */
  required: boolean;
}

/** Human labels and hints for the fields we know; others get their name, spaced. */
const LABELS: Record<string, { label: string; hint?: string }> = {
  phone_number: { label: "Phone number", hint: "E.164, e.g. +18668134984" },
  display_name: { label: "Display name" },
  stt_model: { label: "Speech-to-text model" },
  tts_model: { label: "Text-to-speech model" },
  tts_voice: { label: "Voice", hint: "must be one that the chosen TTS model speaks" },
  inference_model: { label: "LLM" },
  temperature: { label: "Temperature" },
  max_tokens: { label: "Max tokens", hint: "per reply" },
  system_prompt: { label: "System prompt" },
  greeting: { label: "Greeting", hint: "spoken when the call connects" },
  enable_interrupts: { label: "Callers may interrupt (barge-in)" },
  interrupt_timeout: { label: "Interrupt timeout", hint: "seconds" },
  enable_recording: { label: "Record calls" },
  max_call_duration: { label: "Max call duration", hint: "seconds" },
  conversation_mode: { label: "Conversation mode" },
  end_of_speech_ms: { label: "End of speech", hint: "silence that ends an utterance, ms" },
  is_active: { label: "Active" },
  tools: { label: "Tools", hint: "JSON list of transfer, end_call and webhook tools (README: Tools)" },
};

interface Introspected {
  type: string;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  maxLength?: number | null;
  options?: readonly string[];
}

/** The schema under optional/default/nullable wrappers, and whether a value may be left out. */
function unwrap(schema: z.ZodType): { inner: Introspected; optional: boolean } {
  let current = schema as unknown as { _zod: { def: { type: string; innerType?: unknown } } };
  let optional = false;
  while (["optional", "default", "nullable", "prefault"].includes(current._zod.def.type)) {
    if (current._zod.def.type !== "nullable") optional = true;
    current = current._zod.def.innerType as typeof current;
  }
  return { inner: Object.assign(current, { type: current._zod.def.type }) as Introspected, optional };
}

const LONG_TEXT = 400;

export function fieldSpecs(shape: Record<string, z.ZodType>): FieldSpec[] {
  return Object.entries(shape).map(([name, schema]) => {
    const { inner, optional } = unwrap(schema);
    const known = LABELS[name];
    const base = {
      name,
      label: known?.label ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()),
      ...(known?.hint && { hint: known.hint }),
      required: !optional,
    };
    switch (inner.type) {
      case "string":
        return {
          ...base,
          kind: (inner.maxLength ?? 0) > LONG_TEXT ? "textarea" : "text",
          ...(inner.maxLength != null && { maxLength: inner.maxLength }),
        };
      case "number":
        return {
          ...base,
          kind: "number",
          ...(inner.minValue != null && Number.isFinite(inner.minValue) && { min: inner.minValue }),
          ...(inner.maxValue != null && Number.isFinite(inner.maxValue) && { max: inner.maxValue }),
          integer: Boolean(inner.isInt),
        };
      case "boolean":
        return { ...base, kind: "checkbox" };
      case "enum":
        return { ...base, kind: "select", ...(inner.options && { options: inner.options }) };
      default:
        return { ...base, kind: "json", hint: known?.hint ?? "JSON, checked against the API's schema" };
    }
  });
}

/**
 * A form post as the JSON body the API takes. Empty inputs are left out (the schema's default
 * or the stored value applies); numbers that do not parse are passed on as text, so the
 * schema's own message ("expected number") is what the operator reads. JSON that does not
 * parse is the one error found here, reported with the same detail shape as the schema's.
 */
export function formToInput(
  specs: FieldSpec[],
  form: Record<string, string | File | (string | File)[]>,
): { input: Record<string, unknown>; errors: ErrorDetail[] } {
  const input: Record<string, unknown> = {};
  const errors: ErrorDetail[] = [];
  for (const spec of specs) {
    const raw = form[spec.name];
    const value = typeof raw === "string" ? raw : undefined;
    if (spec.kind === "checkbox") {
      input[spec.name] = value !== undefined;
      continue;
    }
    if (value === undefined || value.trim() === "") continue;
    if (spec.kind === "number") {
      const parsed = Number(value.trim());
      input[spec.name] = Number.isFinite(parsed) ? parsed : value;
    } else if (spec.kind === "json") {
      try {
        input[spec.name] = JSON.parse(value);
      } catch (err) {
        errors.push({
          field: spec.name,
          rule: "invalid_json",
          message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    } else {
      input[spec.name] = value;
    }
  }
  return { input, errors };
}

/** Error details by field, first message wins; details without a field under "". */
export function errorsByField(details: ErrorDetail[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of details) {
    const field = (d.field ?? "").split(".")[0] ?? "";
    const prefix = `${d.field}: `;
    out[field] ??= d.message.startsWith(prefix) ? d.message.slice(prefix.length) : d.message;
  }
  return out;
}
