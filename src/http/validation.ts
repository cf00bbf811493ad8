import type { Hook, z } from "@hono/zod-openapi";
import type { ErrorDetail } from "../errors.ts";
import { AppError } from "../errors.ts";

/** zod issues as error details that name the field and the rule it broke. */
export function issueDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue): ErrorDetail[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: [...issue.path, key].join("."),
        rule: "unknown_field",
        message: `unknown field "${key}"`,
      }));
    }
    const field = issue.path.join(".") || "(body)";
    return [{ field, rule: issue.code, message: `${field}: ${issue.message}` }];
  });
}

export function validationError(error: z.ZodError, where: string): AppError {
  const details = issueDetails(error);
  const summary = details.map((d) => d.message).join("; ");
  return new AppError("VALIDATION_ERROR", `Invalid ${where}: ${summary}`, { details });
}

const TARGET_NAMES: Record<string, string> = { json: "request body", query: "query string", param: "path" };

/** Every route's 400 has the same body: OpenAPIHono's defaultHook routes failures here. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every input type
export const defaultHook: Hook<any, any, any, any> = (result) => {
  if (!result.success) throw validationError(result.error, TARGET_NAMES[result.target] ?? result.target);
};
