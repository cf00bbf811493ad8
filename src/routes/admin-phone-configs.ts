import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { configWarnings } from "../config/models.ts";
import { type E164, normalizePhoneNumber } from "../config/phone-number.ts";
import {
  CreateConfigBody,
  type PhoneConfig,
  PhoneConfigSchema,
  type PhoneSettings,
  SETTINGS_KEYS,
  SettingsSchema,
  UpdateConfigBody,
} from "../config/schema.ts";
import { AppError } from "../errors.ts";
import { type IdempotentWrite, idempotency } from "../http/idempotency.ts";
import { ADMIN_ERRORS, errorResponses, json, WRITE_ERRORS } from "../http/openapi.ts";
import type { App, AppEnv } from "../http/types.ts";
import { validationError } from "../http/validation.ts";
import { log } from "../log.ts";
import type { ConfigStore } from "../stores/store.ts";
import { decideWrite, expectedVersionOf, holds } from "./write-retry.ts";

/**
 * The seed's admin API for per-number configs, at the seed's paths and with its JSON shapes,
 * so its curl examples work as written (plus the bearer header).
 */

const MAX_BODY_BYTES = 64 * 1024;

const Warning = z
  .object({ field: z.string(), rule: z.string(), message: z.string() })
  .openapi("ConfigWarning");
const ConfigResponse = z
  .object({
    success: z.literal(true),
    message: z.string(),
    config: PhoneConfigSchema,
    warnings: z.array(Warning).openapi({
      description: "settings the write stored but a call will not send to this model (src/config/models.ts)",
    }),
  })
  .openapi("ConfigResponse");
const GetResponse = z
  .object({ success: z.literal(true), active: z.boolean(), config: PhoneConfigSchema })
  .openapi("GetConfigResponse");
const ListResponse = z
  .object({ success: z.literal(true), total: z.number().int(), configs: z.array(PhoneConfigSchema) })
  .openapi("ListConfigsResponse");
const DeleteResponse = z
  .object({ success: z.literal(true), message: z.string() })
  .openapi("DeleteConfigResponse");

const security = [{ bearerAuth: [] }];
const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "Makes a retry safe: the first answer is kept 24 h per key and admin key and replayed for the same request; another request with the key is 422",
      example: "5f0c2f7e-9a0b-4c41-8d8e-2f3c1b7a9d10",
    }),
});
const PhoneParam = z.object({
  phone_number: z.string().openapi({ param: { name: "phone_number", in: "path" }, example: "+18668134984" }),
});
const boolQuery = z
  .enum(["true", "false", "1", "0"])
  .optional()
  .transform((v) => v === "true" || v === "1");

/** A write's body must be JSON: anything else is a 415, not a confusing "field required". */
const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new AppError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Type must be application/json (got "${type || "none"}")`,
    );
  }
  await next();
};

const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  },
});

const createConfig = createRoute({
  method: "post",
  path: "/phone-config",
  tags: ["Phone configuration"],
  summary: "Create or update a phone number's configuration",
  security,
  middleware: [requireJson, limitBody, idempotency] as const,
  request: {
    headers: IdempotencyHeader,
    body: { ...json(CreateConfigBody, "The configuration"), required: true },
  },
  responses: {
    200: json(ConfigResponse, "Updated"),
    201: json(ConfigResponse, "Created"),
    ...errorResponses(...WRITE_ERRORS),
  },
});

const getConfig = createRoute({
  method: "get",
  path: "/phone-config/{phone_number}",
  tags: ["Phone configuration"],
  summary: "Get a phone number's configuration (inactive ones too, flagged by `active`)",
  security,
  request: { params: PhoneParam },
  responses: { 200: json(GetResponse, "The configuration"), ...errorResponses(...ADMIN_ERRORS, 404) },
});

const listConfigs = createRoute({
  method: "get",
  path: "/phone-configs",
  tags: ["Phone configuration"],
  summary: "List configurations",
  security,
  request: {
    query: z.object({ include_inactive: boolQuery.openapi({ description: "include deactivated numbers" }) }),
  },
  responses: {
    200: json(ListResponse, "Configurations ordered by phone number"),
    ...errorResponses(...ADMIN_ERRORS),
  },
});

const updateConfig = createRoute({
  method: "put",
  path: "/phone-config/{phone_number}",
  tags: ["Phone configuration"],
  summary: "Partially update a configuration (validated after the merge; `is_active: true` reactivates)",
  security,
  middleware: [requireJson, limitBody, idempotency] as const,
  request: {
    params: PhoneParam,
    headers: IdempotencyHeader,
    body: { ...json(UpdateConfigBody, "Fields to change"), required: true },
  },
  responses: { 200: json(ConfigResponse, "Updated"), ...errorResponses(...WRITE_ERRORS) },
});

const deleteConfig = createRoute({
  method: "delete",
  path: "/phone-config/{phone_number}",
  tags: ["Phone configuration"],
  summary: "Deactivate (default) or permanently delete a configuration",
  security,
  middleware: [idempotency] as const,
  request: {
    params: PhoneParam,
    headers: IdempotencyHeader,
    query: z.object({ hard_delete: boolQuery.openapi({ description: "delete permanently" }) }),
  },
  responses: {
    200: json(DeleteResponse, "Deleted"),
    ...errorResponses(...ADMIN_ERRORS, 404, 409, 422),
  },
});

function notFound(phone: string): AppError {
  return new AppError(
    "NOT_FOUND",
    `Configuration not found for ${phone}. Use POST /admin/phone-config to create one.`,
  );
}

function settingsOf(config: PhoneConfig): PhoneSettings {
  return Object.fromEntries(SETTINGS_KEYS.map((k) => [k, config[k]])) as PhoneSettings;
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

export function registerPhoneConfigRoutes(app: App): void {
  app.openapi(createConfig, async (c) => {
    const { services } = c.var;
    const { phone_number, ...settings } = c.req.valid("json");
    const phone = normalizePhoneNumber(phone_number, services.settings.DEFAULT_COUNTRY);
    const given = Object.keys(await c.req.json());
    const { idempotency: idem } = c.var;
    // Under an Idempotency-Key the write is conditional on what it read (see write-retry.ts).
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
      request_id: c.var.requestId,
      phone_number: phone,
      created,
      version: config.version,
    });
    return c.json(
      {
        success: true as const,
        message: `Configuration ${created ? "created" : "saved"} for ${phone}`,
        config,
        warnings: configWarnings(config, given),
      },
      created ? 201 : 200,
    );
  });

  app.openapi(getConfig, async (c) => {
    const { services } = c.var;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, services.settings.DEFAULT_COUNTRY);
    const config = await services.store.get(phone);
    if (!config) throw notFound(phone);
    return c.json({ success: true as const, active: config.is_active, config }, 200);
  });

  app.openapi(listConfigs, async (c) => {
    const configs = await c.var.services.store.list({
      includeInactive: c.req.valid("query").include_inactive,
    });
    return c.json({ success: true as const, total: configs.length, configs }, 200);
  });

  app.openapi(updateConfig, async (c) => {
    const { services } = c.var;
    const { DEFAULT_COUNTRY } = services.settings;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, DEFAULT_COUNTRY);
    const { phone_number: bodyPhone, ...changes } = c.req.valid("json");
    if (bodyPhone !== undefined && normalizePhoneNumber(bodyPhone, DEFAULT_COUNTRY) !== phone) {
      throw new AppError("VALIDATION_ERROR", "phone_number in the body must match the one in the path", {
        details: [
          { field: "phone_number", rule: "immutable", message: "a number's document cannot be renamed" },
        ],
      });
    }
    const existing = await services.store.get(phone);
    const decision = await decideWrite(c.var.idempotency, phone, existing, (current) =>
      holds(current, changes),
    );
    if (!existing) throw notFound(phone);
    const merged = SettingsSchema.safeParse({ ...settingsOf(existing), ...changes });
    if (!merged.success) throw validationError(merged.error, "configuration after update");
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
      request_id: c.var.requestId,
      phone_number: phone,
      fields: Object.keys(changes),
      version: config.version,
    });
    return c.json(
      {
        success: true as const,
        message: `Configuration updated for ${phone}`,
        config,
        warnings: configWarnings(config, Object.keys(changes)),
      },
      200,
    );
  });

  app.openapi(deleteConfig, async (c) => {
    const { services } = c.var;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, services.settings.DEFAULT_COUNTRY);
    const hard = c.req.valid("query").hard_delete;
    const found = c.var.idempotency
      ? await deleteOnce(c.var.idempotency, services.store, phone, hard)
      : hard
        ? await services.store.remove(phone)
        : await services.store.deactivate(phone, new Date());
    if (!found) throw notFound(phone);
    await services.resolver.publish(phone, hard ? null : (found as PhoneConfig));
    log.info("phone_config_deleted", { request_id: c.var.requestId, phone_number: phone, hard });
    return c.json(
      {
        success: true as const,
        message: `Configuration ${hard ? "permanently deleted" : "deactivated"} for ${phone}`,
      },
      200,
    );
  });
}
