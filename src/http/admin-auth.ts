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

/**
 * Who a key stands for: a stable, non-reversible name (`key-` and 16 hex digits of its SHA-256),
 * so per-actor state such as Idempotency-Keys never holds the key itself.
 */
async function actorOf(key: string): Promise<string> {
  const hash = new Uint8Array(await digest(key));
  return `key-${Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Every admin route needs `Authorization: Bearer <key>`, where ADMIN_API_KEY may hold
 * several comma-separated keys (so a key can be rotated without downtime).
 */
export const requireAdminKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const configured = (c.var.services.settings.ADMIN_API_KEY ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
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
  const checks = await Promise.all(configured.map((key) => sameSecret(token, key)));
  if (!checks.includes(true)) throw new AppError("FORBIDDEN", "The bearer token is not a valid admin key");
  c.set("actor", await actorOf(token));
  await next();
};
