import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../config/changes.ts";
import { normalizePhoneNumber } from "../config/phone-number.ts";
import { PhoneConfigSchema } from "../config/schema.ts";
import { ChangeHeaders, limitBody, PhoneParam, requireJson, security } from "../http/admin-openapi.ts";
import { changeOf, etagOf, ifMatchOf } from "../http/change.ts";
import { idempotency } from "../http/idempotency.ts";
import { ADMIN_ERRORS, errorResponses, json, WRITE_ERRORS } from "../http/openapi.ts";
import type { App } from "../http/types.ts";
import { diffSettings, settingsOf } from "../stores/revision.ts";

/**
 * A number's history: every version, one version whole, the difference between two, and a
 * rollback that writes an earlier version's settings as a new version.
 */

const tags = ["Versions and rollback"];
const example = {
  version: 4,
  written_at: "2026-05-02T09:30:00.000Z",
  actor: "alice",
  reason: "Shorter greeting for the spring campaign",
  changed_fields: ["greeting"],
};

const VersionSummary = z
  .object({
    version: z.number().int(),
    written_at: z.string(),
    actor: z.string().openapi({ description: "the name of the admin key that made the change" }),
    reason: z.string().nullable().openapi({ description: "X-Change-Reason, if one was sent" }),
    changed_fields: z.array(z.string()),
    is_active: z.boolean(),
  })
  .openapi("VersionSummary", { example: { ...example, is_active: true } });

const VersionsResponse = z
  .object({
    success: z.literal(true),
    total: z.number().int().openapi({ description: "revisions kept (CONFIG_HISTORY_LIMIT at most)" }),
    versions: z.array(VersionSummary),
  })
  .openapi("VersionsResponse");

const VersionResponse = z
  .object({
    success: z.literal(true),
    version: z.object({
      version: z.number().int(),
      written_at: z.string(),
      actor: z.string(),
      reason: z.string().nullable(),
      changed_fields: z.array(z.string()),
      template: z.string().nullable().openapi({ description: "the template a create started from" }),
      config: PhoneConfigSchema,
    }),
  })
  .openapi("VersionResponse");

const DiffResponse = z
  .object({
    success: z.literal(true),
    from: z.number().int(),
    to: z.number().int(),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
  })
  .openapi("DiffResponse", {
    example: {
      success: true,
      from: 3,
      to: 4,
      changes: [
        {
          field: "greeting",
          from: "Welcome to Acme support. How can I help?",
          to: "Hi, Acme support here. What can I do for you?",
        },
      ],
    },
  });

const RollbackBody = z
  .strictObject({ version: z.number().int().min(1).openapi({ example: 3 }) })
  .openapi("RollbackRequest");

const RollbackResponse = z
  .object({ success: z.literal(true), message: z.string(), config: PhoneConfigSchema })
  .openapi("RollbackResponse");

const versionNumber = (description: string) =>
  z.coerce.number().int().min(1).optional().openapi({ description, example: 3 });

const listVersions = createRoute({
  method: "get",
  path: "/phone-config/{phone_number}/versions",
  tags,
  summary: "A number's versions, newest first",
  security,
  request: {
    params: PhoneParam,
    query: z.object({
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(100)
        .default(20)
        .openapi({ description: "1-100, default 20" }),
      before: versionNumber("only versions below this one: the last version of the previous page"),
    }),
  },
  responses: {
    200: json(VersionsResponse, "Versions, newest first"),
    ...errorResponses(...ADMIN_ERRORS, 404),
  },
});

const VersionParams = PhoneParam.extend({
  version: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "version", in: "path" }, example: 3 }),
});

const getVersion = createRoute({
  method: "get",
  path: "/phone-config/{phone_number}/versions/{version}",
  tags,
  summary: "One version: the whole document as it was written, who wrote it and why",
  security,
  request: { params: VersionParams },
  responses: {
    200: json(VersionResponse, "The version"),
    ...errorResponses(...ADMIN_ERRORS, 404),
  },
});

const diffVersions = createRoute({
  method: "get",
  path: "/phone-config/{phone_number}/diff",
  tags,
  summary: "The settings that differ between two versions",
  security,
  request: {
    params: PhoneParam,
    query: z.object({
      from: versionNumber("the older version (default: the one before `to`)"),
      to: versionNumber("the newer version (default: the current one)"),
    }),
  },
  responses: {
    200: json(DiffResponse, "Every setting whose value differs, in the schema's order"),
    ...errorResponses(...ADMIN_ERRORS, 404),
  },
});

const rollback = createRoute({
  method: "post",
  path: "/phone-config/{phone_number}/rollback",
  tags,
  summary: "Write an earlier version's settings as a new version (the next call uses them)",
  description:
    "created_at is kept; the revision records the actor and X-Change-Reason (default: `rollback to version k`). Rolling back to settings that are already current writes nothing and answers 200.",
  security,
  middleware: [requireJson, limitBody, idempotency] as const,
  request: {
    params: PhoneParam,
    headers: ChangeHeaders,
    body: { ...json(RollbackBody, "The version to restore"), required: true },
  },
  responses: {
    200: json(RollbackResponse, "Rolled back (or already so)"),
    ...errorResponses(...WRITE_ERRORS, 412),
  },
});

export function registerVersionRoutes(app: App): void {
  app.openapi(listVersions, async (c) => {
    const { changes, settings, store } = c.var.services;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, settings.DEFAULT_COUNTRY);
    const { limit, before } = c.req.valid("query");
    const page = await changes.revisions(phone, { limit, before });
    // An empty history is a 404 only when the number is unknown too (a document written
    // before history existed has none yet).
    if (page.total === 0 && !(await store.get(phone))) throw notFound(phone);
    return c.json({ success: true as const, total: page.total, versions: page.versions }, 200);
  });

  app.openapi(getVersion, async (c) => {
    const { changes, settings } = c.var.services;
    const { phone_number, version } = c.req.valid("param");
    const revision = await changes.revision(
      normalizePhoneNumber(phone_number, settings.DEFAULT_COUNTRY),
      version,
    );
    const { phone_number: _p, ...rest } = revision;
    return c.json({ success: true as const, version: rest }, 200);
  });

  app.openapi(diffVersions, async (c) => {
    const { changes, settings, store } = c.var.services;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, settings.DEFAULT_COUNTRY);
    const query = c.req.valid("query");
    let to = query.to;
    if (to === undefined) {
      const current = await store.get(phone);
      if (!current) throw notFound(phone);
      to = current.version;
    }
    const from = query.from ?? Math.max(1, to - 1);
    const [older, newer] = await Promise.all([changes.revision(phone, from), changes.revision(phone, to)]);
    const diff = diffSettings(settingsOf(older.config), settingsOf(newer.config));
    return c.json({ success: true as const, from, to, changes: diff }, 200);
  });

  app.openapi(rollback, async (c) => {
    const { changes, settings } = c.var.services;
    const phone = normalizePhoneNumber(c.req.valid("param").phone_number, settings.DEFAULT_COUNTRY);
    const { version } = c.req.valid("json");
    const { config, written } = await changes.rollback(phone, version, changeOf(c), {
      ifMatch: ifMatchOf(c),
    });
    c.header("ETag", etagOf(config.version));
    c.var.services.log.info("phone_config_rolled_back", {
      phone_number: phone,
      to_settings_of: version,
      version: config.version,
      written,
    });
    const message = written
      ? `Configuration for ${phone} rolled back to version ${version}'s settings as version ${config.version}`
      : `Configuration for ${phone} already has version ${version}'s settings; nothing written`;
    return c.json({ success: true as const, message, config }, 200);
  });
}
