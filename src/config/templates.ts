import { z } from "@hono/zod-openapi";
import { AppError } from "../errors.ts";
import { issueDetails } from "../http/validation.ts";
import type { ConfigStore, StoredTemplate } from "../stores/store.ts";
import { CreateConfigBody, type PhoneSettings, UpdateConfigBody } from "./schema.ts";

/**
 * Templates: named, partial settings a new number can start from. Built-in ones ship with the
 * code and cannot be changed; user ones live in the config store. A template's settings pass
 * the same field rules as a configuration's (the schema's, so a new setting is allowed in a
 * template as soon as it exists), and a create from a template is validated again as a whole.
 */

export const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const TemplateName = z
  .string()
  .regex(TEMPLATE_NAME, "must be 1-63 lowercase letters, digits and dashes, starting with a letter or digit")
  .openapi({ example: "front-desk" });

/**
 * POST /admin/phone-config's body as documented: a create body plus an optional `template`.
 * The applyTemplate middleware (src/routes/admin-templates.ts) replaces `template` with that
 * template's settings under the body's own fields before this schema validates the body, so
 * a body that reaches the route never holds it; an unknown name is a 400 naming it.
 */
export const CreateConfigRequest = CreateConfigBody.safeExtend({
  template: TemplateName.optional().openapi({
    description:
      "A template's name (GET /admin/templates: built-in or your own). Every field the body leaves out comes from the template; the revision records its name. Unknown: 400.",
    example: "receptionist",
  }),
}).openapi("PhoneConfigCreateRequest", {
  example: {
    phone_number: "+18668134984",
    template: "receptionist",
    display_name: "Front desk",
    greeting: "Thanks for calling Acme Dental. How can I help you today?",
  },
});

/**
 * What a create from nothing but the template gives: the fields a create must have, so the
 * cross-field rules are checked on the template's own fields, with the defaults for the rest.
 */
const CREATE_PLACEHOLDER = {
  phone_number: "+10000000000",
  display_name: "Template check",
  system_prompt: "Template check.",
  greeting: "Template check.",
};

/**
 * Any subset of the settings, each under its field's rule, and the cross-field rules (a voice
 * the TTS model speaks, realtime models and voices, routing layers) as a create from the
 * template alone would meet them; `phone_number` has no place here.
 */
export const TemplateSettings = UpdateConfigBody.omit({ phone_number: true })
  .superRefine((settings, ctx) => {
    const create = CreateConfigBody.safeParse({ ...CREATE_PLACEHOLDER, ...settings });
    for (const issue of create.error?.issues ?? [])
      ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0]);
  })
  .openapi("TemplateSettings");

export const TemplateBody = z
  .strictObject({
    name: TemplateName,
    description: z.string().trim().max(500).default(""),
    settings: TemplateSettings,
  })
  .openapi("TemplateCreate", {
    example: {
      name: "front-desk",
      description: "Our front desk: short answers, then a transfer",
      settings: {
        display_name: "Front desk",
        greeting: "Thanks for calling Acme. How can I help?",
        temperature: 0.4,
      },
    },
  });

export interface Template {
  name: string;
  description: string;
  settings: Partial<PhoneSettings>;
  builtin: boolean;
  /** user templates only */
  updated_at?: string;
}

/**
 * Shared by every built-in: how to talk on a phone line. Callers hear the reply once, through
 * a phone speaker, so no markdown, no lists, short sentences, one question at a time.
 */
const FOR_THE_EAR =
  "You are speaking on a phone call, so everything you say is heard, not read. Use short, plain sentences. Never use markdown, bullet points, numbered lists, emoji or symbols. Ask one question at a time and wait for the answer. Say numbers, dates and times the way a person would say them aloud. If you did not catch something, ask the caller to repeat it.";

const builtin = (name: string, description: string, settings: Partial<PhoneSettings>): Template => ({
  name,
  description,
  settings,
  builtin: true,
});

/** The templates that ship with the project, read-only. */
export const BUILTIN_TEMPLATES: readonly Template[] = [
  builtin("receptionist", "Answers the main line, finds out what the caller needs, takes a message", {
    display_name: "Reception",
    system_prompt: `You are the receptionist of a small business. ${FOR_THE_EAR} Find out who is calling and what they need. If you cannot help, offer to take a message with their name, number and a short reason for the call, then read it back to them.`,
    greeting: "Hello, thanks for calling. How can I help you today?",
    temperature: 0.5,
    max_tokens: 200,
  }),
  builtin("after-hours", "Says the office is closed, gives the opening hours, takes a message", {
    display_name: "After hours",
    system_prompt: `You answer the phone while the office is closed. ${FOR_THE_EAR} Tell the caller the office is closed and when it opens again if they ask. Offer to take a message with their name, number and what it is about. For an emergency, tell them to hang up and call the emergency number.`,
    greeting: "Hello, you have reached us after hours. I can take a message for the team. What is your name?",
    temperature: 0.4,
    max_tokens: 160,
  }),
  builtin("appointments", "Books, moves and cancels appointments, one detail at a time", {
    display_name: "Appointments",
    system_prompt: `You book appointments by phone. ${FOR_THE_EAR} Collect one detail at a time: the caller's name, the kind of appointment, then the day and time they prefer. Repeat the day and time back before you confirm. To move or cancel an appointment, ask for the name it was booked under first.`,
    greeting: "Hello, you can book, move or cancel an appointment with me. What would you like to do?",
    temperature: 0.3,
    max_tokens: 160,
  }),
  builtin("sales", "Warm, curious sales line: learns the need, then suggests one next step", {
    display_name: "Sales",
    system_prompt: `You work on the sales line. ${FOR_THE_EAR} Be warm and curious. Learn what the caller is trying to do before you describe any product. Suggest one clear next step, such as a call back or a short demo, and ask if that works for them. Never invent prices or promises you are not sure of.`,
    greeting: "Hi, thanks for calling our sales team. What are you looking for today?",
    temperature: 0.7,
    max_tokens: 220,
  }),
  builtin("support", "Calm support line: one problem at a time, one step at a time", {
    display_name: "Support",
    system_prompt: `You work on the customer support line. ${FOR_THE_EAR} Stay calm and patient. Ask what went wrong, then help with one step at a time and check that each step worked before the next. If you cannot solve it, say so plainly and offer to have a person call back.`,
    greeting: "Hello, you have reached support. Tell me what is going on and we will sort it out together.",
    temperature: 0.4,
    max_tokens: 220,
  }),
];

const BUILTINS = new Map(BUILTIN_TEMPLATES.map((t) => [t.name, t]));

export function builtinTemplate(name: string): Template | undefined {
  return BUILTINS.get(name);
}

function fromStored(stored: StoredTemplate): Template {
  return { ...stored, builtin: false };
}

/** Every template, built-in ones first, then the store's by name. */
export async function listTemplates(store: ConfigStore): Promise<Template[]> {
  return [...BUILTIN_TEMPLATES, ...(await store.templates()).map(fromStored)];
}

/** A template by name, or a 404 that names it. */
export async function findTemplate(store: ConfigStore, name: string): Promise<Template | null> {
  const found = builtinTemplate(name);
  if (found) return found;
  const stored = await store.template(name);
  return stored ? fromStored(stored) : null;
}

/**
 * A create body with `template`: every field the body leaves out comes from the template.
 * Returns the merged body (without `template`) and the template's name; unknown is a 400.
 */
export async function expandTemplate(
  store: ConfigStore,
  body: Record<string, unknown>,
): Promise<{ body: Record<string, unknown>; template: string | undefined }> {
  const { template: name, ...rest } = body;
  if (name === undefined) return { body, template: undefined };
  if (typeof name !== "string") {
    throw new AppError("VALIDATION_ERROR", "template must be a template's name", {
      details: [{ field: "template", rule: "invalid_type", message: "template: expected a string" }],
    });
  }
  const template = await findTemplate(store, name);
  if (!template) {
    throw new AppError("VALIDATION_ERROR", `Unknown template "${name}" (see GET /admin/templates)`, {
      details: [{ field: "template", rule: "unknown_template", message: `no template named "${name}"` }],
    });
  }
  return { body: { ...template.settings, ...rest }, template: template.name };
}

/** Validates a template's settings; a 400 lists every problem under `settings.<field>`. */
export function templateSettings(settings: unknown): Partial<PhoneSettings> {
  const parsed = TemplateSettings.safeParse(settings);
  if (!parsed.success) {
    const details = issueDetails(parsed.error).map((d) => ({ ...d, field: `settings.${d.field}` }));
    throw new AppError(
      "VALIDATION_ERROR",
      `Invalid template settings: ${details.map((d) => d.message).join("; ")}`,
      { details },
    );
  }
  return parsed.data as Partial<PhoneSettings>;
}
