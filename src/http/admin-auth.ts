import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import { adminActor, adminKeys, matchAdminKey } from "./admin-keys.ts";
import type { AppEnv } from "./types.ts";

/**
 * Every admin route needs `Authorization: Bearer <key>`, where ADMIN_API_KEY may hold
 * several comma-separated keys (so a key can be rotated without downtime), each with a name
 * (`name:key`) that becomes `c.var.actor`: who made a change, in its revision.
 */
export const requireAdminKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { settings } = c.var.services;
  if (adminKeys(settings).length === 0) {
    throw new AppError(
      "ADMIN_DISABLED",
      "The admin API is disabled because ADMIN_API_KEY is not set: run `wrangler secret put ADMIN_API_KEY` (locally, set it in .dev.vars)",
    );
  }
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new AppError("UNAUTHORIZED", "Missing bearer token: send `Authorization: Bearer <ADMIN_API_KEY>`");
  }
  const matched = await matchAdminKey(settings, match[1]);
  if (!matched) throw new AppError("FORBIDDEN", "The bearer token is not a valid admin key");
  c.set("actor", matched.name);
  c.set("keyId", await adminActor(matched.key));
  await next();
};
