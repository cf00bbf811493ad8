import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import type { AppEnv } from "./types.ts";

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export interface AdminKey {
  /** recorded as the actor of every change made with the key; never the key itself */
  name: string;
  key: string;
}

/** The name a bare key (no `name:` prefix) goes by. */
export const DEFAULT_KEY_NAME = "admin";

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * ADMIN_API_KEY as keys: comma-separated entries, each `name:key` or a bare key (named
 * "admin"). An entry whose part before the first `:` is not a name (letters, digits, `._@-`,
 * at most 64) is a bare key that happens to hold a colon.
 */
export function parseAdminKeys(value: string | undefined): AdminKey[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(":");
      const name = entry.slice(0, colon);
      const key = entry.slice(colon + 1).trim();
      return colon > 0 && KEY_NAME.test(name) && key !== ""
        ? { name, key }
        : { name: DEFAULT_KEY_NAME, key: entry };
    });
}

/**
 * Every admin route needs `Authorization: Bearer <key>`, where ADMIN_API_KEY may hold
 * several comma-separated keys (so a key can be rotated without downtime), each with a name
 * (`name:key`) that becomes `c.var.actor`: who made a change, in its revision.
 */
export const requireAdminKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const configured = parseAdminKeys(c.var.services.settings.ADMIN_API_KEY);
  if (configured.length === 0) {
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
  const token = match[1];
  const checks = await Promise.all(configured.map(({ key }) => sameSecret(token, key)));
  const matched = configured[checks.indexOf(true)];
  if (!matched) throw new AppError("FORBIDDEN", "The bearer token is not a valid admin key");
  c.set("actor", matched.name);
  await next();
};
