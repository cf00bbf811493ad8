import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";
import { MAX_REASON_LENGTH } from "./change.ts";
import type { AppEnv } from "./types.ts";

/**
 * The request pieces every admin route group shares (security, path parameter, headers of a
 * write) and the guards on a write's body. Error answers come from src/http/openapi.ts.
 */

export const MAX_BODY_BYTES = 64 * 1024;

export const security = [{ bearerAuth: [] }];

export const PhoneParam = z.object({
  phone_number: z.string().openapi({ param: { name: "phone_number", in: "path" }, example: "+18668134984" }),
});

export const boolQuery = z
  .enum(["true", "false", "1", "0"])
  .optional()
  .transform((v) => v === "true" || v === "1");

const idempotencyKey = z
  .string()
  .optional()
  .openapi({
    param: { name: "idempotency-key", in: "header" },
    description:
      "Makes a retry safe: the first answer is kept 24 h per key and admin key and replayed for the same request; another request with the key is 422",
    example: "5f0c2f7e-9a0b-4c41-8d8e-2f3c1b7a9d10",
  });

const reason = z
  .string()
  .max(MAX_REASON_LENGTH)
  .optional()
  .openapi({
    param: { name: "x-change-reason", in: "header" },
    description: `Why: stored with the revision (at most ${MAX_REASON_LENGTH} characters)`,
    example: "Shorter greeting for the spring campaign",
  });

const ifMatch = z
  .string()
  .optional()
  .openapi({
    param: { name: "if-match", in: "header" },
    description: 'Write only if this is still the current version (the ETag of GET, e.g. "3"); else 412',
    example: '"3"',
  });

/** Headers of a write that creates a version. */
export const WriteHeaders = z.object({ "idempotency-key": idempotencyKey, "x-change-reason": reason });

/** Headers of a write to an existing number: also If-Match. */
export const ChangeHeaders = z.object({
  "idempotency-key": idempotencyKey,
  "x-change-reason": reason,
  "if-match": ifMatch,
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
