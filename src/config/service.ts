import type { z } from "@hono/zod-openapi";
import { AppError } from "../errors.ts";
import type { IfMatch } from "../http/change.ts";
import type { IdempotentWrite } from "../http/idempotency.ts";
import type { Services } from "../services.ts";
import { SYSTEM_ACTOR } from "../stores/revision.ts";
import type { ChangeInfo } from "../stores/store.ts";
import { notFound } from "./changes.ts";
import { type E164, normalizePhoneNumber } from "./phone-number.ts";
import type { CreateConfigBody, PhoneConfig, PhoneSettings, UpdateConfigBody } from "./schema.ts";
import { prepareSettingsTools } from "./tools-settings.ts";

/**
 * What a write to a number's configuration does, whoever asks (the admin API, the console):
 * normalise the number, validate, then ConfigChanges (src/config/changes.ts: preconditions,
 * the revision, the cache write-through), and log. Errors are AppErrors (VALIDATION_ERROR
 * with per-field details, NOT_FOUND, CONFLICT through the store's StoreError,
 * PRECONDITION_FAILED).
 */

export type CreateInput = z.output<typeof CreateConfigBody>;
export type UpdateInput = z.output<typeof UpdateConfigBody>;

/** Who asked (for the log line and the revision), and on which version the change was made. */
export interface WriteContext {
  via: "api" | "console";
  /** who and why, recorded in the revision; omitted, the actor is "system" */
  change?: ChangeInfo;
  /** If-Match: a mismatch is a 412 */
  ifMatch?: IfMatch | undefined;
  /** the API request's Idempotency-Key: the write is then conditional and safe to retry (write-retry.ts) */
  idempotency?: IdempotentWrite | undefined;
}

export { notFound };

export function phoneOf(services: Services, input: string, field = "phone_number"): E164 {
  return normalizePhoneNumber(input, services.settings.DEFAULT_COUNTRY, field);
}

const changeOf = (context: WriteContext): ChangeInfo => context.change ?? { actor: SYSTEM_ACTOR };

/**
 * Every `tools` list of the settings (the base and each routing override) with the checks that
 * depend on the Worker's settings (https, default country) and E.164 targets.
 */
function withTools<T extends Parameters<typeof prepareSettingsTools>[0]>(services: Services, settings: T): T {
  const { ENVIRONMENT, DEFAULT_COUNTRY } = services.settings;
  return prepareSettingsTools(settings, { environment: ENVIRONMENT, defaultCountry: DEFAULT_COUNTRY });
}

/**
 * A create body (already parsed by CreateConfigBody) as it is written: the number in E.164 and
 * the settings with the checks that need the Worker's settings (every `tools` list, routing
 * overrides included: https outside development, E.164 transfer targets). Every create goes through it: POST, the console, an
 * import. Throws AppError VALIDATION_ERROR whose details name each field and rule.
 */
export function createSettings(
  services: Services,
  input: CreateInput,
): { phone: E164; settings: PhoneSettings } {
  const { phone_number, ...body } = input;
  const phone = phoneOf(services, phone_number);
  return { phone, settings: withTools(services, body) };
}

/** Creates or replaces a number's configuration from a validated create body. */
export async function saveConfig(
  services: Services,
  input: CreateInput,
  context: WriteContext,
): Promise<{ config: PhoneConfig; created: boolean }> {
  const { phone, settings } = createSettings(services, input);
  const { config, created } = await services.changes.save(phone, settings, changeOf(context), {
    idempotency: context.idempotency,
    ifMatch: context.ifMatch,
  });
  services.log.info("phone_config_saved", {
    via: context.via,
    phone_number: phone,
    created,
    version: config.version,
  });
  return { config, created };
}

/**
 * Merges `changes` into the stored settings and validates the result as a whole. `version`
 * (optional) must be the current one (409); so must If-Match (412).
 */
export async function updateConfig(
  services: Services,
  phone: E164,
  input: UpdateInput & { version?: number | undefined },
  context: WriteContext,
): Promise<PhoneConfig> {
  const { phone_number: bodyPhone, version, ...given } = input;
  // Tools as they are stored (E.164 targets), so a replayed write compares equal to the stored one.
  const changes = withTools(services, given);
  if (bodyPhone !== undefined && phoneOf(services, bodyPhone) !== phone) {
    throw new AppError("VALIDATION_ERROR", "phone_number in the body must match the one in the path", {
      details: [
        { field: "phone_number", rule: "immutable", message: "a number's document cannot be renamed" },
      ],
    });
  }
  const config = await services.changes.merge(phone, changes, changeOf(context), {
    ifMatch: context.ifMatch,
    version,
    idempotency: context.idempotency,
  });
  services.log.info("phone_config_updated", {
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
  const pre = { ifMatch: context.ifMatch, idempotency: context.idempotency };
  if (hard) await services.changes.remove(phone, pre);
  else await services.changes.deactivate(phone, changeOf(context), pre);
  services.log.info("phone_config_deleted", {
    via: context.via,
    phone_number: phone,
    hard,
  });
}
