import type { z } from "@hono/zod-openapi";
import { AppError } from "../errors.ts";
import type { IdempotentWrite } from "../http/idempotency.ts";
import { validationError } from "../http/validation.ts";
import { log } from "../log.ts";
import type { Services } from "../services.ts";
import type { ConfigStore } from "../stores/store.ts";
import { type E164, normalizePhoneNumber } from "./phone-number.ts";
import {
  type CreateConfigBody,
  type PhoneConfig,
  type PhoneSettings,
  SETTINGS_KEYS,
  SettingsSchema,
  type UpdateConfigBody,
} from "./schema.ts";
import { prepareTools, type ToolConfig } from "./tools.ts";
import { decideWrite, expectedVersionOf, holds } from "./write-retry.ts";

/**
 * What a write to a number's configuration does, whoever asks (the admin API, the console):
 * normalise the number, validate, write with optimistic concurrency, publish to the caches,
 * log. Errors are AppErrors (VALIDATION_ERROR with per-field details, NOT_FOUND, CONFLICT
 * through the store's StoreError).
 */

export type CreateInput = z.output<typeof CreateConfigBody>;
export type UpdateInput = z.output<typeof UpdateConfigBody>;

/** Who asked, for the log line: the request id of the API call or console page. */
export interface WriteContext {
  requestId?: string | undefined;
  via: "api" | "console";
  /** the API request's Idempotency-Key: the write is then conditional and safe to retry (write-retry.ts) */
  idempotency?: IdempotentWrite | undefined;
}

export function notFound(phone: string): AppError {
  return new AppError(
    "NOT_FOUND",
    `Configuration not found for ${phone}. Use POST /admin/phone-config to create one.`,
  );
}

export function phoneOf(services: Services, input: string, field = "phone_number"): E164 {
  return normalizePhoneNumber(input, services.settings.DEFAULT_COUNTRY, field);
}

/** The tools with the checks that depend on the settings (https, default country) and E.164 targets. */
function toolsFor(services: Services, tools: ToolConfig[]): ToolConfig[] {
  const { ENVIRONMENT, DEFAULT_COUNTRY } = services.settings;
  return prepareTools(tools, { environment: ENVIRONMENT, defaultCountry: DEFAULT_COUNTRY });
}

function settingsOf(config: PhoneConfig): PhoneSettings {
  // Fields a document never had (routing ones) stay absent rather than becoming undefined.
  return Object.fromEntries(
    SETTINGS_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]),
  ) as PhoneSettings;
}

/** Creates or replaces a number's configuration from a validated create body. */
export async function saveConfig(
  services: Services,
  input: CreateInput,
  context: WriteContext,
): Promise<{ config: PhoneConfig; created: boolean }> {
  const { phone_number, ...body } = input;
  const phone = phoneOf(services, phone_number);
  const settings = { ...body, tools: toolsFor(services, body.tools) };
  const idem = context.idempotency;
  const existing = idem ? await services.store.get(phone) : null;
  const decision = await decideWrite(idem, phone, existing, (current) => holds(current, settings));
  const { config, created } =
    decision === "applied" && existing
      ? { config: existing, created: idem?.previous?.baseVersion === 0 }
      : await services.store.put(phone, settings, {
          now: new Date(),
          ...(idem && { expectedVersion: expectedVersionOf(existing) }),
        });
  await services.resolver.publish(phone, config);
  log.info("phone_config_saved", {
    request_id: context.requestId,
    via: context.via,
    phone_number: phone,
    created,
    version: config.version,
  });
  return { config, created };
}

/** Merges `changes` into the stored settings and validates the result as a whole. */
export async function updateConfig(
  services: Services,
  phone: E164,
  input: UpdateInput,
  context: WriteContext,
): Promise<PhoneConfig> {
  const { phone_number: bodyPhone, ...given } = input;
  // Tools as they are stored (E.164 targets), so a replayed write compares equal to the stored one.
  const changes = given.tools ? { ...given, tools: toolsFor(services, given.tools) } : given;
  if (bodyPhone !== undefined && phoneOf(services, bodyPhone) !== phone) {
    throw new AppError("VALIDATION_ERROR", "phone_number in the body must match the one in the path", {
      details: [
        { field: "phone_number", rule: "immutable", message: "a number's document cannot be renamed" },
      ],
    });
  }
  const existing = await services.store.get(phone);
  const decision = await decideWrite(context.idempotency, phone, existing, (current) =>
    holds(current, changes),
  );
  if (!existing) throw notFound(phone);
  const candidate = { ...settingsOf(existing), ...changes };
  const merged = SettingsSchema.safeParse(candidate);
  if (!merged.success) throw validationError(merged.error, "configuration after update", candidate);
  const { config } =
    decision === "applied"
      ? { config: existing }
      : await services.store.put(phone, merged.data, {
          now: new Date(),
          // Version 0 is a document from before versions existed: nothing to compare against.
          ...(existing.version > 0 && { expectedVersion: existing.version }),
        });
  await services.resolver.publish(phone, config);
  log.info("phone_config_updated", {
    request_id: context.requestId,
    via: context.via,
    phone_number: phone,
    fields: Object.keys(changes),
    version: config.version,
  });
  return config;
}

/** Deactivates (soft) or deletes (hard) a number's configuration; NOT_FOUND when there is none. */
export async function removeConfig(
  services: Services,
  phone: E164,
  hard: boolean,
  context: WriteContext,
): Promise<void> {
  const found = context.idempotency
    ? await deleteOnce(context.idempotency, services.store, phone, hard)
    : hard
      ? await services.store.remove(phone)
      : await services.store.deactivate(phone, new Date());
  if (!found) throw notFound(phone);
  await services.resolver.publish(phone, hard ? null : (found as PhoneConfig));
  log.info("phone_config_deleted", {
    request_id: context.requestId,
    via: context.via,
    phone_number: phone,
    hard,
  });
}

/**
 * A delete under an Idempotency-Key: a deactivation is a conditional write of `is_active: false`
 * (so a delayed first attempt cannot apply it again), and a retry finds an earlier success.
 */
async function deleteOnce(
  idem: IdempotentWrite,
  store: ConfigStore,
  phone: E164,
  hard: boolean,
): Promise<PhoneConfig | boolean | null> {
  const existing = await store.get(phone);
  const gone = (current: PhoneConfig | null) => (hard ? current === null : current?.is_active === false);
  if ((await decideWrite(idem, phone, existing, gone)) === "applied") return existing ?? true;
  if (!existing) return null;
  if (hard) return store.remove(phone);
  const { config } = await store.put(
    phone,
    { ...settingsOf(existing), is_active: false },
    { now: new Date(), expectedVersion: expectedVersionOf(existing) },
  );
  return config;
}
