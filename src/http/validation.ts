import type { Hook, z } from "@hono/zod-openapi";
import { toolLabel } from "../config/tools.ts";
import type { ErrorDetail } from "../errors.ts";
import { AppError } from "../errors.ts";

/** A tool's issue names the tool (`tools[2] (webhook "lookup_order")`), found in the raw input. */
function subject(path: PropertyKey[], input: unknown): string {
  const [key, index] = path;
  if (key === "tools" && typeof index === "number" && typeof input === "object" && input !== null) {
    return `${toolLabel((input as { tools?: unknown }).tools, index)} ${path.slice(2).join(".") || "(tool)"}`;
  }
  return path.join(".") || "(body)";
}

/** The rule a custom check names in its params, else zod's issue code. */
function ruleOf(issue: z.core.$ZodIssue): string {
  const rule = issue.code === "custom" ? (issue.params as { rule?: unknown } | undefined)?.rule : undefined;
  return typeof rule === "string" ? rule : issue.code;
}

/**
 * zod issues as error details that name the field and the rule it broke; `input` (the raw body)
 * lets a message name the tool an issue is about.
 */
export function issueDetails(error: z.ZodError, input?: unknown): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join("."),
        rule: "unknown_field",
        message: `unknown field "${key}"`,
      }));
    }
    const field = issue.path.join(".") || "(body)";
    return [{ field, rule: ruleOf(issue), message: `${subject(issue.path, input)}: ${issue.message}` }];
  });
}

export function validationError(error: z.ZodError, where: string, input?: unknown): AppError {
  const details = issueDetails(error, input);
  const summary = details.map((d) => d.message).join("; ");
  return new AppError("VALIDATION_ERROR", `Invalid ${where}: ${summary}`, { details });
}

const TARGET_NAMES: Record<string, string> = { json: "request body", query: "query string", param: "path" };

/** Every route's 400 has the same body: OpenAPIHono's defaultHook routes failures here. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input type
export const defaultHook: Hook<any, any, any, any> = (result) => {
  if (!result.success) {
    // zod-validator passes the raw input as `data` beside the error (its Hook type omits it).
    const input = (result as { data?: unknown }).data;
    throw validationError(result.error, TARGET_NAMES[result.target] ?? result.target, input);
  }
};
