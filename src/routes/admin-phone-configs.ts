import { createRoute, z } from "@hono/zod-openapi";
import { configWarnings } from "../config/models.ts";
import { PhoneConfigSchema, UpdateConfigBody } from "../config/schema.ts";
import { notFound, phoneOf, removeConfig, saveConfig, updateConfig } from "../config/service.ts";
import { CreateConfigRequest } from "../config/templates.ts";
import {
  boolQuery,
  ChangeHeaders,
  limitBody,
  PhoneParam,
  requireJson,
  security,
} from "../http/admin-openapi.ts";
import { changeOf, etagOf, ifMatchOf } from "../http/change.ts";
import { idempotency } from "../http/idempotency.ts";
import { ADMIN_ERRORS, errorResponses, json, WRITE_ERRORS } from "../http/openapi.ts";
import type { App } from "../http/types.ts";
import { applyTemplate } from "./admin-templates.ts";

/**
 * The seed's admin API for per-number configs, at the seed's paths and with its JSON shapes,
 * so its curl examples work as written (plus the bearer header).
 */

/** PUT body: any subset of the settings, plus an optional `version` that must be the current one. */
const UpdateRequestBody = z
  .strictObject({
    ...UpdateConfigBody.shape,
    version: z.number().int().min(0).optional().openapi({
      description:
        "the version this edit was made on; another one is a 409 (If-Match does the same as a 412)",
    }),
  })
  .openapi("PhoneConfigUpdateRequest");

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

const createConfig = createRoute({
  method: "post",
  path: "/phone-config",
  tags: ["Phone configuration"],
  summary: "Create or update a phone number's configuration",
  description:
    'With `"template": "<name>"` (see GET /admin/templates), every field the body leaves out comes from that template, and the revision records its name; an unknown template is a 400 that names it.',
  security,
  middleware: [requireJson, limitBody, idempotency, applyTemplate] as const,
  request: {
    headers: ChangeHeaders,
    body: {
      ...json(
        CreateConfigRequest,
        "The configuration, or a template's name and the fields that differ from it",
      ),
      required: true,
    },
  },
  responses: {
    200: json(ConfigResponse, "Updated"),
    201: json(ConfigResponse, "Created"),
    ...errorResponses(...WRITE_ERRORS, 412),
  },
});

const getConfig = createRoute({
  method: "get",
  path: "/phone-config/{phone_number}",
  tags: ["Phone configuration"],
  summary: "Get a phone number's configuration (inactive ones too, flagged by `active`)",
  security,
  request: { params: PhoneParam },
  responses: {
    200: {
      ...json(GetResponse, "The configuration"),
      headers: {
        ETag: { schema: { type: "string" }, description: 'The version, as "3": send it as If-Match' },
      },
    },
    ...errorResponses(...ADMIN_ERRORS, 404),
  },
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

const updateConfigRoute = createRoute({
  method: "put",
  path: "/phone-config/{phone_number}",
  tags: ["Phone configuration"],
  summary: "Partially update a configuration (validated after the merge; `is_active: true` reactivates)",
  security,
  middleware: [requireJson, limitBody, idempotency] as const,
  request: {
    params: PhoneParam,
    headers: ChangeHeaders,
    body: { ...json(UpdateRequestBody, "Fields to change"), required: true },
  },
  responses: {
    200: json(ConfigResponse, "Updated (the new version's ETag in the ETag header)"),
    ...errorResponses(...WRITE_ERRORS, 412),
  },
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
    headers: ChangeHeaders,
    query: z.object({
      hard_delete: boolQuery.openapi({ description: "delete permanently, with the whole history" }),
    }),
  },
  responses: {
    200: json(DeleteResponse, "Deleted"),
    ...errorResponses(...ADMIN_ERRORS, 404, 409, 412, 422),
  },
});

export function registerPhoneConfigRoutes(app: App): void {
  app.openapi(createConfig, async (c) => {
    const given = Object.keys(await c.req.json());
    // applyTemplate has already put the template's settings in the body (and its name in c.var.template).
    const { template: _template, ...input } = c.req.valid("json");
    const { config, created } = await saveConfig(c.var.services, input, {
      via: "api",
      idempotency: c.var.idempotency,
      change: changeOf(c, c.var.template),
      ifMatch: ifMatchOf(c),
    });
    c.header("ETag", etagOf(config.version));
    return c.json(
      {
        success: true as const,
        message: `Configuration ${created ? "created" : "saved"} for ${config.phone_number}`,
        config,
        warnings: configWarnings(config, given),
      },
      created ? 201 : 200,
    );
  });

  app.openapi(getConfig, async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.valid("param").phone_number);
    const config = await services.store.get(phone);
    if (!config) throw notFound(phone);
    c.header("ETag", etagOf(config.version));
    return c.json({ success: true as const, active: config.is_active, config }, 200);
  });

  app.openapi(listConfigs, async (c) => {
    const configs = await c.var.services.store.list({
      includeInactive: c.req.valid("query").include_inactive,
    });
    return c.json({ success: true as const, total: configs.length, configs }, 200);
  });

  app.openapi(updateConfigRoute, async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.valid("param").phone_number);
    const config = await updateConfig(services, phone, c.req.valid("json"), {
      via: "api",
      idempotency: c.var.idempotency,
      change: changeOf(c),
      ifMatch: ifMatchOf(c),
    });
    c.header("ETag", etagOf(config.version));
    return c.json(
      {
        success: true as const,
        message: `Configuration updated for ${phone}`,
        config,
        warnings: configWarnings(
          config,
          Object.keys(c.req.valid("json")).filter((k) => k !== "phone_number" && k !== "version"),
        ),
      },
      200,
    );
  });

  app.openapi(deleteConfig, async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.valid("param").phone_number);
    const hard = c.req.valid("query").hard_delete;
    await removeConfig(services, phone, hard, {
      via: "api",
      idempotency: c.var.idempotency,
      change: changeOf(c),
      ifMatch: ifMatchOf(c),
    });
    return c.json(
      {
        success: true as const,
        message: `Configuration ${hard ? "permanently deleted" : "deactivated"} for ${phone}`,
      },
      200,
    );
  });
}
