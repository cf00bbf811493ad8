import { createRoute, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { normalizePhoneNumber } from "../config/phone-number.ts";
import { CreateConfigBody, type PhoneConfig, type PhoneSettings } from "../config/schema.ts";
import { createSettings } from "../config/service.ts";
import { builtinTemplate, TemplateBody } from "../config/templates.ts";
import { AppError, type ErrorDetail } from "../errors.ts";
import { boolQuery, requireJson, security, WriteHeaders } from "../http/admin-openapi.ts";
import { changeOf } from "../http/change.ts";
import { ADMIN_ERRORS, errorResponses, json, WRITE_ERRORS } from "../http/openapi.ts";
import type { App } from "../http/types.ts";
import { issueDetails } from "../http/validation.ts";
import type { Services } from "../services.ts";
import { diffSettings, settingsOf } from "../stores/revision.ts";
import type { StoredTemplate } from "../stores/store.ts";

/**
 * Configuration as code: every number and user template as one JSON document, and an import
 * of that same document that validates everything before it writes anything, then answers the
 * plan (created, updated with the fields that change, unchanged, deactivated by `prune`).
 */

const tags = ["Configuration as code"];
/** An import may carry many numbers: more than one admin write's 64 KiB. */
const MAX_IMPORT_BYTES = 4 * 1024 * 1024;

const limitImport = bodyLimit({
  maxSize: MAX_IMPORT_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `An import is at most ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);
  },
});

const ExportedConfig = z.record(z.string(), z.unknown()).openapi("ExportedConfig", {
  example: { phone_number: "+18668134984", display_name: "Support", greeting: "Hello." },
});
// Loose on purpose: the import checks each document itself and reports every problem at once.
const ExportedTemplate = z.record(z.string(), z.unknown()).openapi("ExportedTemplate", {
  example: { name: "front-desk", description: "Front desk", settings: { temperature: 0.4 } },
});

const ExportDocument = z
  .object({
    exported_at: z.string().optional(),
    configs: z.array(ExportedConfig),
    templates: z.array(ExportedTemplate).default([]),
  })
  .openapi("ConfigExport");

const PlanEntry = z.object({
  phone_number: z.string(),
  action: z.enum(["created", "updated", "unchanged", "deactivated"]),
  changed_fields: z.array(z.string()).optional(),
});
const TemplatePlanEntry = z.object({ name: z.string(), action: z.enum(["created", "updated", "unchanged"]) });

const ImportResponse = z
  .object({
    success: z.literal(true),
    dry_run: z.boolean(),
    plan: z.array(PlanEntry),
    templates: z.array(TemplatePlanEntry),
  })
  .openapi("ImportPlan", {
    example: {
      success: true,
      dry_run: true,
      plan: [
        { phone_number: "+18668134984", action: "updated", changed_fields: ["greeting"] },
        { phone_number: "+18005550100", action: "created" },
        { phone_number: "+18005550111", action: "unchanged" },
      ],
      templates: [{ name: "front-desk", action: "unchanged" }],
    },
  });

const exportRoute = createRoute({
  method: "get",
  path: "/phone-configs/export",
  tags,
  summary: "Every number (inactive ones too) and every user template, without store metadata",
  security,
  responses: {
    200: json(ExportDocument, "The export: the import's input"),
    ...errorResponses(...ADMIN_ERRORS),
  },
});

const importRoute = createRoute({
  method: "post",
  path: "/phone-configs/import",
  tags,
  summary: "Import an export: all validated first (400 lists every problem, nothing written), then applied",
  description:
    "Answers the plan per number: created, updated (with changed_fields) or unchanged (same settings: no new version). `prune=true` deactivates numbers the file does not hold (refused, 400 `empty_import`, for a file with no numbers unless `dry_run=true`). `dry_run=true` answers the same plan and writes nothing.",
  security,
  middleware: [requireJson, limitImport] as const,
  request: {
    headers: WriteHeaders,
    query: z.object({
      dry_run: boolQuery.openapi({ description: "answer the plan, write nothing" }),
      prune: boolQuery.openapi({ description: "deactivate numbers missing from the file" }),
    }),
    body: {
      ...json(ExportDocument, "A document as GET /admin/phone-configs/export answers"),
      required: true,
    },
  },
  responses: {
    200: json(ImportResponse, "The plan (applied unless dry_run)"),
    ...errorResponses(...WRITE_ERRORS),
  },
});

type Settings = PhoneSettings;

/**
 * Every document checked by the create rules of POST /admin/phone-config (the schema, then
 * createSettings: tools' https and E.164 targets); the problems of all of them, each field
 * prefixed with the document's place (`configs[2].tools.0.url`), or the parsed numbers and
 * templates.
 */
function validateImport(
  doc: z.output<typeof ExportDocument>,
  services: Services,
): { configs: Map<string, Settings>; templates: StoredTemplate[] } {
  const country = services.settings.DEFAULT_COUNTRY;
  const problems: ErrorDetail[] = [];
  const configs = new Map<string, Settings>();
  doc.configs.forEach((raw, i) => {
    const where = `configs[${i}]`;
    const { created_at: _c, updated_at: _u, version: _v, ...fields } = raw;
    let phone: string | undefined;
    try {
      phone = normalizePhoneNumber(String(fields.phone_number ?? ""), country);
    } catch (err) {
      problems.push({
        field: `${where}.phone_number`,
        rule: "phone_number",
        message: `${where}: ${(err as Error).message}`,
      });
    }
    const parsed = CreateConfigBody.safeParse(fields);
    if (!parsed.success) {
      for (const d of issueDetails(parsed.error)) {
        problems.push({ ...d, field: `${where}.${d.field}`, message: `${phone ?? where}: ${d.message}` });
      }
      return;
    }
    if (!phone) return;
    let prepared: ReturnType<typeof createSettings>;
    try {
      prepared = createSettings(services, parsed.data);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "VALIDATION_ERROR") throw err;
      for (const d of err.details) {
        problems.push({ ...d, field: `${where}.${d.field}`, message: `${phone}: ${d.message}` });
      }
      return;
    }
    if (configs.has(phone)) {
      problems.push({
        field: `${where}.phone_number`,
        rule: "duplicate",
        message: `${phone} appears more than once`,
      });
      return;
    }
    configs.set(phone, prepared.settings);
  });
  const templates: StoredTemplate[] = [];
  doc.templates.forEach((raw, i) => {
    const where = `templates[${i}]`;
    const parsed = TemplateBody.safeParse(raw);
    if (!parsed.success) {
      for (const d of issueDetails(parsed.error)) problems.push({ ...d, field: `${where}.${d.field}` });
      return;
    }
    if (builtinTemplate(parsed.data.name)) {
      problems.push({
        field: `${where}.name`,
        rule: "builtin",
        message: `"${parsed.data.name}" is a built-in template`,
      });
      return;
    }
    templates.push({ ...parsed.data, settings: parsed.data.settings as Partial<Settings>, updated_at: "" });
  });
  if (problems.length > 0) {
    throw new AppError(
      "VALIDATION_ERROR",
      `The import has ${problems.length} problem(s); nothing was written`,
      {
        details: problems,
      },
    );
  }
  return { configs, templates };
}

const sameTemplate = (a: StoredTemplate, b: StoredTemplate) =>
  a.description === b.description &&
  diffSettings(a.settings as Settings, b.settings as Settings).length === 0;

export function registerImportExportRoutes(app: App): void {
  app.openapi(exportRoute, async (c) => {
    const { store } = c.var.services;
    const [configs, templates] = await Promise.all([
      store.list({ includeInactive: true }),
      store.templates(),
    ]);
    return c.json(
      {
        exported_at: new Date().toISOString(),
        configs: configs.map((config) => ({ phone_number: config.phone_number, ...settingsOf(config) })),
        templates: templates.map(({ name, description, settings }) => ({ name, description, settings })),
      },
      200,
    );
  });

  app.openapi(importRoute, async (c) => {
    const { store, changes } = c.var.services;
    const { dry_run: dryRun, prune } = c.req.valid("query");
    const { configs, templates } = validateImport(c.req.valid("json"), c.var.services);
    const change = changeOf(c);

    const existing = new Map<string, PhoneConfig>(
      (await store.list({ includeInactive: true })).map((config) => [config.phone_number, config]),
    );
    const plan: z.output<typeof PlanEntry>[] = [];
    for (const [phone, settings] of configs) {
      const current = existing.get(phone);
      const changed = current ? diffSettings(settingsOf(current), settings).map((d) => d.field) : null;
      if (!current) plan.push({ phone_number: phone, action: "created" });
      else if (changed?.length === 0) plan.push({ phone_number: phone, action: "unchanged" });
      else plan.push({ phone_number: phone, action: "updated", changed_fields: changed ?? [] });
    }
    if (prune && configs.size === 0 && !dryRun) {
      // An empty file with prune would silence every line at once: far more likely a mistake.
      const active = [...existing.values()].filter((config) => config.is_active).length;
      throw new AppError(
        "VALIDATION_ERROR",
        `prune=true with a file of no numbers would deactivate all ${active} active numbers; send the numbers to keep, or dry_run=true to see the plan`,
        {
          details: [
            { field: "prune", rule: "empty_import", message: "prune needs at least one number in the file" },
          ],
        },
      );
    }
    if (prune) {
      for (const [phone, config] of existing) {
        if (!configs.has(phone) && config.is_active)
          plan.push({ phone_number: phone, action: "deactivated" });
      }
    }
    const currentTemplates = new Map((await store.templates()).map((t) => [t.name, t]));
    const templatePlan = templates.map((t) => {
      const current = currentTemplates.get(t.name);
      return {
        name: t.name,
        action: !current ? "created" : sameTemplate(current, t) ? "unchanged" : "updated",
      } as const;
    });

    if (!dryRun) {
      const now = new Date().toISOString();
      for (const t of templates) {
        const entry = templatePlan.find((p) => p.name === t.name);
        if (entry?.action !== "unchanged")
          await store.saveTemplate({ ...t, updated_at: now }, { mustBeNew: false });
      }
      for (const entry of plan) {
        const phone = entry.phone_number as Parameters<typeof changes.apply>[0];
        if (entry.action === "deactivated") await changes.deactivate(phone, change);
        else if (entry.action !== "unchanged")
          await changes.apply(phone, configs.get(phone) as Settings, change);
      }
    }
    c.var.services.log.info("configs_imported", {
      dry_run: dryRun,
      prune,
      actor: c.var.actor,
      numbers: plan.length,
      written: dryRun ? 0 : plan.filter((p) => p.action !== "unchanged").length,
    });
    return c.json({ success: true as const, dry_run: dryRun, plan, templates: templatePlan }, 200);
  });
}
