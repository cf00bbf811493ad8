import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { AppError } from "../errors.ts";
import type { AppEnv } from "./types.ts";

/** The admin API's limits on a JSON request body (writes and previews). */

export const MAX_BODY_BYTES = 64 * 1024;

/** The body must be JSON: anything else is a 415, not a confusing "field required". */
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

/** Bodies over MAX_BODY_BYTES are a 413. */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  },
});
