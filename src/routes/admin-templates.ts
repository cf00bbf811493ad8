import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import {
  BUILTIN_TEMPLATES,
  builtinTemplate,
  expandTemplate,
  findTemplate,
  listTemplates,
  TemplateBody,
  TemplateName,
  TemplateSettings,
  templateSettings,
} from "../config/templates.ts";
import { AppError } from "../errors.ts";
import { limitBody, requireJson, security } from "../http/admin-openapi.ts";
import { ADMIN_ERRORS, errorResponses, json, WRITE_ERRORS } from "../http/openapi.ts";
import type { App, AppEnv } from "../http/types.ts";

/** Templates: built-in (read-only) and the user's own, in the config store. */

const tags = ["Templates"];

const TemplateSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    settings: TemplateSettings,
    builtin: z.boolean().openapi({ description: "ships with the project; cannot be changed or deleted" }),
    updated_at: z.string().optional(),
  })
  .openapi("Template", { example: { ...(BUILTIN_TEMPLATES[0] as object) } });

const ListResponse = z
  .object({ success: z.literal(true), total: z.number().int(), templates: z.array(TemplateSchema) })
  .openapi("TemplatesResponse");
const OneResponse = z
  .object({ success: z.literal(true), template: TemplateSchema })
  .openapi("TemplateResponse");
const DeleteResponse = z.object({ success: z.literal(true), message: z.string() });

const NameParam = z.object({
  name: TemplateName.openapi({ param: { name: "name", in: "path" }, example: "front-desk" }),
});

const ReplaceBody = z
  .strictObject({ description: z.string().trim().max(500).default(""), settings: TemplateSettings })
  .openapi("TemplateReplace");

const list = createRoute({
  method: "get",
  path: "/templates",
  tags,
  summary: "Every template: built-in ones first, then yours",
  security,
  responses: { 200: json(ListResponse, "Templates"), ...errorResponses(...ADMIN_ERRORS) },
});

const create = createRoute({
  method: "post",
  path: "/templates",
  tags,
  summary: "Create a template (a name a built-in or another template has is a 409)",
  security,
  middleware: [requireJson, limitBody] as const,
  request: { body: { ...json(TemplateBody, "The template"), required: true } },
  responses: { 201: json(OneResponse, "Created"), ...errorResponses(...WRITE_ERRORS) },
});

const get = createRoute({
  method: "get",
  path: "/templates/{name}",
  tags,
  summary: "One template",
  security,
  request: { params: NameParam },
  responses: { 200: json(OneResponse, "The template"), ...errorResponses(...ADMIN_ERRORS, 404) },
});

const replace = createRoute({
  method: "put",
  path: "/templates/{name}",
  tags,
  summary: "Create or replace one of your templates (a built-in is a 403)",
  security,
  middleware: [requireJson, limitBody] as const,
  request: { params: NameParam, body: { ...json(ReplaceBody, "Description and settings"), required: true } },
  responses: {
    200: json(OneResponse, "Replaced"),
    201: json(OneResponse, "Created"),
    ...errorResponses(...WRITE_ERRORS),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/templates/{name}",
  tags,
  summary: "Delete one of your templates (a built-in is a 403)",
  security,
  request: { params: NameParam },
  responses: { 200: json(DeleteResponse, "Deleted"), ...errorResponses(...ADMIN_ERRORS, 404) },
});

/**
 * Before a create is validated: a body naming a `template` becomes the template's settings
 * with the body's own fields on top (so the create's rules, defaults included, apply to the
 * result). The merged body replaces the parsed one the validator reads; the template's name
 * goes to `c.var.template`, for the revision.
 */
export const applyTemplate: MiddlewareHandler<AppEnv> = async (c, next) => {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    // Not JSON: the validator answers it as any other create.
    await next();
    return;
  }
  if (body && typeof body === "object" && !Array.isArray(body) && "template" in body) {
    const expanded = await expandTemplate(c.var.services.store, body as Record<string, unknown>);
    // Hono parses JSON from its cached text: the validator and the route read the merged body.
    // (the cache holds promises at run time, whatever its declared type says)
    c.req.bodyCache.text = Promise.resolve(JSON.stringify(expanded.body)) as unknown as string;
    c.set("template", expanded.template);
  }
  await next();
};

function readOnly(name: string): AppError {
  return new AppError(
    "FORBIDDEN",
    `"${name}" is a built-in template: it cannot be changed or deleted; copy it under a new name`,
  );
}

export function registerTemplateRoutes(app: App): void {
  app.openapi(list, async (c) => {
    const templates = await listTemplates(c.var.services.store);
    return c.json({ success: true as const, total: templates.length, templates }, 200);
  });

  app.openapi(create, async (c) => {
    const { name, description, settings } = c.req.valid("json");
    if (builtinTemplate(name)) {
      throw new AppError("CONFLICT", `"${name}" is the name of a built-in template; choose another name`);
    }
    const stored = {
      name,
      description,
      settings: templateSettings(settings),
      updated_at: new Date().toISOString(),
    };
    await c.var.services.store.saveTemplate(stored, { mustBeNew: true });
    c.var.services.log.info("template_saved", {
      template: name,
      created: true,
      actor: c.var.actor,
    });
    return c.json({ success: true as const, template: { ...stored, builtin: false } }, 201);
  });

  app.openapi(get, async (c) => {
    const { name } = c.req.valid("param");
    const template = await findTemplate(c.var.services.store, name);
    if (!template) throw new AppError("NOT_FOUND", `No template named "${name}" (see GET /admin/templates)`);
    return c.json({ success: true as const, template }, 200);
  });

  app.openapi(replace, async (c) => {
    const { name } = c.req.valid("param");
    if (builtinTemplate(name)) throw readOnly(name);
    const { description, settings } = c.req.valid("json");
    const stored = {
      name,
      description,
      settings: templateSettings(settings),
      updated_at: new Date().toISOString(),
    };
    const { created } = await c.var.services.store.saveTemplate(stored, { mustBeNew: false });
    c.var.services.log.info("template_saved", { template: name, created, actor: c.var.actor });
    return c.json({ success: true as const, template: { ...stored, builtin: false } }, created ? 201 : 200);
  });

  app.openapi(remove, async (c) => {
    const { name } = c.req.valid("param");
    if (builtinTemplate(name)) throw readOnly(name);
    if (!(await c.var.services.store.removeTemplate(name))) {
      throw new AppError("NOT_FOUND", `No template named "${name}"`);
    }
    c.var.services.log.info("template_deleted", { template: name, actor: c.var.actor });
    return c.json({ success: true as const, message: `Template "${name}" deleted` }, 200);
  });
}
