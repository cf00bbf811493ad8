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
  return detailsOf(error.issues, input);
}

/**
 * An input that is none of a union's forms, but has the keys of exactly one (no unknown field
 * there): that is the form meant, and its own issues say what is wrong, at their full path.
 */
function meantForm(issue: z.core.$ZodIssueInvalidUnion): z.core.$ZodIssue[] | null {
  if (issue.input === undefined) return null;
  const meant = issue.errors.filter(
    (form) => !form.some((i) => i.code === "unrecognized_keys" && i.path.length === 0),
  );
  const [only] = meant;
  if (meant.length !== 1 || !only) return null;
  return only.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
}

function detailsOf(issues: readonly z.core.$ZodIssue[], input: unknown): ErrorDetail[] {
  return issues.flatMap((issue): ErrorDetail[] => {
    const meant = issue.code === "invalid_union" ? meantForm(issue) : null;
    if (meant) return detailsOf(meant, input);
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
