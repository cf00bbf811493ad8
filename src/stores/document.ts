import { type PhoneConfig, PhoneConfigSchema, SETTING_DEFAULTS } from "../config/schema.ts";
import { StoreError } from "./store.ts";

/**
 * A MongoDB document (read by the driver or through the Data API) as a PhoneConfig: BSON dates
 * to ISO strings, `_id` and unknown fields dropped. Documents written before a setting existed
 * (by the original Python service, or before stream mode) get that setting's default and
 * version 0, rather than failing every call to the number.
 */
export function configFromDocument(doc: Record<string, unknown>): PhoneConfig {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v);
  const updatedAt = iso(doc.updated_at);
  const parsed = PhoneConfigSchema.safeParse({
    ...SETTING_DEFAULTS,
    version: 0,
    ...doc,
    created_at: iso(doc.created_at) ?? updatedAt,
    updated_at: updatedAt,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new StoreError(
      "bad_response",
      `stored document for ${String(doc.phone_number)} is not a valid phone config: ${problems}`,
      { cause: parsed.error },
    );
  }
  return parsed.data;
}
