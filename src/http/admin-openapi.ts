import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";
import { MAX_REASON_LENGTH } from "./change.ts";
import type { AppEnv } from "./types.ts";

/** The OpenAPI pieces and body guards every admin route group shares. */

export const MAX_BODY_BYTES = 64 * 1024;

export const ErrorResponse = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(
        z.object({ field: z.string().optional(), rule: z.string().optional(), message: z.string() }),
      ),
      request_id: z.string().optional(),
    }),
  })
  .openapi("Error");

/** A 412's body also says which version is current, so a client can re-read and retry. */
export const PreconditionFailedResponse = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.literal("PRECONDITION_FAILED"),
      message: z.string(),
      current_version: z.number().int().openapi({ example: 7 }),
      details: z.array(
        z.object({ field: z.string().optional(), rule: z.string().optional(), message: z.string() }),
      ),
      request_id: z.string().optional(),
    }),
  })
  .openapi("PreconditionFailed");

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const errors = {
  400: json(ErrorResponse, "Invalid input: the body says which field broke which rule"),
  401: json(ErrorResponse, "Missing bearer token"),
  403: json(ErrorResponse, "Wrong bearer token"),
  503: json(ErrorResponse, "Store unavailable, or ADMIN_API_KEY not set"),
};

export const security = [{ bearerAuth: [] }];

export const PhoneParam = z.object({
  phone_number: z.string().openapi({ param: { name: "phone_number", in: "path" }, example: "+18668134984" }),
});

const reason = z
  .string()
  .max(MAX_REASON_LENGTH)
  .optional()
  .openapi({
    description: `Why: stored with the revision (at most ${MAX_REASON_LENGTH} characters)`,
    example: "Shorter greeting for the spring campaign",
  });

/** Headers of a write that creates a version. */
export const ReasonHeader = z.object({ "x-change-reason": reason });

/** Headers of a write to an existing number: also If-Match, a version's ETag. */
export const ChangeHeaders = z.object({
  "x-change-reason": reason,
  "if-match": z.string().optional().openapi({
    description: 'Write only if this is still the current version (the ETag of GET, e.g. "3"); else 412',
    example: '"3"',
  }),
});

/** A write's body must be JSON: anything else is a 415, not a confusing "field required". */
export const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
    throw new AppError(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Type must be application/json (got "${type || "none"}")`,
    );
  }
  await next();
};

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  },
});
