import { Validator } from "@cfworker/json-schema";
import { z } from "@hono/zod-openapi";
import type { ErrorDetail } from "../errors.ts";
import { normalizePhoneNumber } from "./phone-number.ts";

/**
 * A number's `tools`: what its agent may do besides talking. Three kinds:
 *   - transfer: the model calls `transfer_call` with one target's name; the caller hears the
 *     announcement, then is connected with <Dial>;
 *   - end_call: the model calls `end_call`; its last sentence plays, then the call hangs up;
 *   - webhook: the model calls the owner's function `name`; arguments are checked against
 *     `parameters` (JSON Schema), then POSTed, signed, to `url`.
 * The zod schema checks what needs no settings; `prepareTools` adds the checks that do (https
 * outside development, phone numbers in the default country) and normalises targets to E.164.
 */

/** OpenAI's pattern for function names (Chat Completions and Realtime). */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TOOLS = 10;
export const MAX_TRANSFER_TARGETS = 20;
/** Owner webhooks: default and longest wait for an answer, ms. */
export const WEBHOOK_TIMEOUT_DEFAULT_MS = 4000;
export const WEBHOOK_TIMEOUT_MAX_MS = 10_000;
/** A `parameters` schema is sent to the model on every request: keep it small. */
const MAX_PARAMETERS_BYTES = 8 * 1024;
/** The function names the built-in kinds give the model. */
export const TRANSFER_TOOL_NAME = "transfer_call";
export const END_CALL_TOOL_NAME = "end_call";
export const DEFAULT_ANNOUNCEMENT = "Connecting you now.";
/** Names only the built-in kinds may give the model, compared case-insensitively. */
const RESERVED_TOOL_NAMES = new Set([TRANSFER_TOOL_NAME, END_CALL_TOOL_NAME]);

const JSON_TYPES = new Set(["object", "array", "string", "number", "integer", "boolean", "null"]);

/** Problems that would make OpenAI refuse the definition, or make our validator misbehave. */
function schemaProblems(schema: unknown, at: string, out: string[]): void {
  if (typeof schema === "boolean") return;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    out.push(`${at} must be a JSON Schema object`);
    return;
  }
  const s = schema as Record<string, unknown>;
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  for (const t of types) {
    if (typeof t !== "string" || !JSON_TYPES.has(t))
      out.push(`${at}.type ${JSON.stringify(t)} is not a JSON type`);
  }
  if (s.properties !== undefined) {
    if (typeof s.properties !== "object" || s.properties === null || Array.isArray(s.properties)) {
      out.push(`${at}.properties must be an object`);
    } else {
      for (const [key, sub] of Object.entries(s.properties))
        schemaProblems(sub, `${at}.properties.${key}`, out);
    }
  }
  if (
    s.required !== undefined &&
    !(Array.isArray(s.required) && s.required.every((r) => typeof r === "string"))
  ) {
    out.push(`${at}.required must be an array of property names`);
  }
  if (s.enum !== undefined && !Array.isArray(s.enum)) out.push(`${at}.enum must be an array`);
  if (typeof s.pattern === "string") {
    try {
      new RegExp(s.pattern, "u");
    } catch {
      out.push(`${at}.pattern is not a valid regular expression`);
    }
  }
  if (s.items !== undefined) schemaProblems(s.items, `${at}.items`, out);
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const list = s[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) out.push(`${at}.${key} must be an array`);
    else for (const [i, sub] of list.entries()) schemaProblems(sub, `${at}.${key}[${i}]`, out);
  }
}

const ParametersSchema = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    if (schema.type !== "object") {
      ctx.addIssue({
        code: "custom",
        params: { rule: "object_schema" },
        message: `must be a JSON Schema with "type": "object" (got ${JSON.stringify(schema.type ?? null)})`,
      });
      return;
    }
    if (JSON.stringify(schema).length > MAX_PARAMETERS_BYTES) {
      ctx.addIssue({
        code: "custom",
        params: { rule: "max_size" },
        message: "must be at most 8 KiB of JSON",
      });
      return;
    }
    const problems: string[] = [];
    schemaProblems(schema, "parameters", problems);
    if (problems.length === 0) {
      try {
        new Validator(schema, "2020-12", false).validate({});
      } catch (err) {
        problems.push(`parameters cannot be compiled: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    for (const message of problems)
      ctx.addIssue({ code: "custom", params: { rule: "json_schema" }, message });
  })
  .openapi({
    description: 'JSON Schema (draft 2020-12) of the arguments; the top level must be "type": "object"',
    example: {
      type: "object",
      properties: { order_id: { type: "string", description: "the order number the caller reads out" } },
      required: ["order_id"],
    },
  });

const TransferTarget = z.strictObject({
  name: z.string().trim().min(1).max(64).openapi({ example: "Sales" }),
  to: z
    .string()
    .trim()
    .min(1)
    .max(256)
    .refine((v) => /^sip:\S+@\S+$/i.test(v) || /^[+\d\s().\-/]+$/.test(v), {
      message: "must be a phone number (E.164, any spelling) or a sip: URI",
      params: { rule: "e164_or_sip" },
    })
    .openapi({ example: "+14155550123", description: "E.164 number (normalised on save) or sip: URI" }),
  description: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .optional()
    .openapi({ description: "when the model should choose this target" }),
  caller_id: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .optional()
    .openapi({ description: "caller ID the target sees; default: the caller's own number" }),
});

const TransferTool = z
  .strictObject({
    type: z.literal("transfer"),
    targets: z.array(TransferTarget).min(1, "a transfer needs at least one target").max(MAX_TRANSFER_TARGETS),
    announcement: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .openapi({
        description: `what the caller hears before the <Dial> (default "${DEFAULT_ANNOUNCEMENT}")`,
      }),
    description: z.string().trim().min(1).max(1024).optional(),
  })
  .superRefine((tool, ctx) => {
    const seen = new Set<string>();
    tool.targets.forEach((target, i) => {
      const key = target.name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["targets", i, "name"],
          params: { rule: "unique" },
          message: `target name "${target.name}" is used twice`,
        });
      }
      seen.add(key);
    });
  })
  .openapi("TransferTool");

const EndCallTool = z
  .strictObject({
    type: z.literal("end_call"),
    description: z.string().trim().min(1).max(1024).optional(),
  })
  .openapi("EndCallTool");

const WebhookTool = z
  .strictObject({
    type: z.literal("webhook"),
    name: z
      .string()
      .regex(TOOL_NAME_PATTERN, "must match ^[A-Za-z0-9_-]{1,64}$")
      .refine((name) => !RESERVED_TOOL_NAMES.has(name.toLowerCase()), {
        params: { rule: "reserved" },
        error: (issue) =>
          `"${String(issue.input)}" is reserved for the built-in ${String(issue.input).toLowerCase() === TRANSFER_TOOL_NAME ? "transfer" : "end_call"} tool (names ${[...RESERVED_TOOL_NAMES].join(", ")} in any case)`,
      })
      .openapi({
        example: "lookup_order",
        description: "not transfer_call or end_call (any case): reserved",
      }),
    description: z
      .string()
      .trim()
      .min(1)
      .max(1024)
      .openapi({ example: "Look up an order's delivery status by its number." }),
    parameters: ParametersSchema,
    url: z
      .url({ protocol: /^https?$/, error: "must be an absolute http(s) URL" })
      .max(2048)
      .openapi({
        example: "https://orders.example.com/agent/lookup",
        description: "https only in production",
      }),
    timeout_ms: z
      .number()
      .int()
      .min(100)
      .max(WEBHOOK_TIMEOUT_MAX_MS)
      .optional()
      .openapi({ description: `ms (default ${WEBHOOK_TIMEOUT_DEFAULT_MS})` }),
  })
  .openapi("WebhookTool");

export const ToolConfigSchema = z.discriminatedUnion("type", [TransferTool, EndCallTool, WebhookTool]);

export type ToolConfig = z.output<typeof ToolConfigSchema>;
export type TransferToolConfig = z.output<typeof TransferTool>;
export type WebhookToolConfig = z.output<typeof WebhookTool>;
export type TransferTargetConfig = z.output<typeof TransferTarget>;

/** The function name the model sees for a tool. */
export function toolName(tool: ToolConfig): string {
  if (tool.type === "transfer") return TRANSFER_TOOL_NAME;
  if (tool.type === "end_call") return END_CALL_TOOL_NAME;
  return tool.name;
}

/** The `tools` setting: at most 10, each function name once. */
export const ToolsSchema = z
  .array(ToolConfigSchema)
  .max(MAX_TOOLS, `at most ${MAX_TOOLS} tools per number`)
  .superRefine((tools, ctx) => {
    const seen = new Map<string, number>();
    tools.forEach((tool, i) => {
      const name = toolName(tool);
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [i, tool.type === "webhook" ? "name" : "type"],
          params: { rule: "unique" },
          message: `tool name "${name}" is already used by tools[${first}]`,
        });
      } else seen.set(name, i);
    });
  })
  .openapi({ description: "What the agent may do: transfer the call, end it, call the owner's functions" });

/**
 * How an error names a tool: `tools[2] (webhook "lookup_order")`. `input` is the raw body, so
 * tools that failed validation are named too.
 */
export function toolLabel(input: unknown, index: number): string {
  const tool = Array.isArray(input) ? (input[index] as Record<string, unknown> | undefined) : undefined;
  const type = typeof tool?.type === "string" ? tool.type : "tool";
  const name =
    type === "transfer" ? TRANSFER_TOOL_NAME : type === "end_call" ? END_CALL_TOOL_NAME : tool?.name;
  return typeof name === "string" && name !== ""
    ? `tools[${index}] (${type} "${name}")`
    : `tools[${index}] (${type})`;
}

export interface ToolRules {
  /** ENVIRONMENT: plain http owner URLs are allowed in development only */
  environment: "development" | "production";
  /** DEFAULT_COUNTRY, for target numbers written without a country code */
  defaultCountry: string;
}

/** Where a `tools` list sits in a config: its field path and how messages name its layer. */
export interface ToolsAt {
  /** dotted path of the list, e.g. "tools" or "variants.0.settings.tools" */
  path: string;
  /** prefix naming the routing layer in messages, e.g. 'variant "b": '; "" for the base */
  label: string;
}

/**
 * The checks that depend on the Worker's settings (https outside development, possible phone
 * numbers in the default country), and the targets' numbers as E.164. Returns the prepared list
 * and the problems, each detail's field under `at.path`; throws nothing. Callers go through
 * prepareSettingsTools (tools-settings.ts), which applies it to every list in a config.
 */
export function checkTools(
  tools: ToolConfig[],
  rules: ToolRules,
  at: ToolsAt = { path: "tools", label: "" },
): { tools: ToolConfig[]; details: ErrorDetail[] } {
  const details: ErrorDetail[] = [];
  const prepared = tools.map((tool, i): ToolConfig => {
    const label = `${at.label}${toolLabel(tools, i)}`;
    if (tool.type === "webhook") {
      if (rules.environment !== "development" && new URL(tool.url).protocol !== "https:") {
        details.push({
          field: `${at.path}.${i}.url`,
          rule: "https",
          message: `${label}: url must use https outside ENVIRONMENT=development`,
        });
      }
      return tool;
    }
    if (tool.type !== "transfer") return tool;
    const targets = tool.targets.map((target, j) => {
      const normalise = (value: string, key: "to" | "caller_id") => {
        try {
          return normalizePhoneNumber(value, rules.defaultCountry, key);
        } catch {
          details.push({
            field: `${at.path}.${i}.targets.${j}.${key}`,
            rule: key === "to" ? "e164_or_sip" : "e164",
            message: `${label}: target "${target.name}" ${key} is not a possible phone number${key === "to" ? " or sip: URI" : ""}`,
          });
          return value;
        }
      };
      const to = /^sip:/i.test(target.to) ? target.to : normalise(target.to, "to");
      return {
        ...target,
        to,
        ...(target.caller_id !== undefined && { caller_id: normalise(target.caller_id, "caller_id") }),
      };
    });
    return { ...tool, targets };
  });
  return { tools: prepared, details };
}
