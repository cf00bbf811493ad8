import type { Settings } from "../env.ts";

/** The admin keys: ADMIN_API_KEY, checked in constant time, shared by the API's bearer auth and the console's sign-in. */

const encoder = new TextEncoder();

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

/** ADMIN_API_KEY's comma-separated keys (several, so a key can be rotated without downtime). */
export function adminKeys(settings: Pick<Settings, "ADMIN_API_KEY">): string[] {
  return (settings.ADMIN_API_KEY ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
}

/** The key among the configured ones that `given` equals, or undefined. */
export async function matchAdminKey(
  settings: Pick<Settings, "ADMIN_API_KEY">,
  given: string,
): Promise<string | undefined> {
  const keys = adminKeys(settings);
  const checks = await Promise.all(keys.map((key) => sameSecret(given, key)));
  return keys[checks.indexOf(true)];
}

/**
 * Who an admin key stands for: a stable, non-reversible name (`key-` and 16 hex digits of its
 * SHA-256), so per-actor state such as Idempotency-Keys never holds the key itself.
 */
export async function adminActor(key: string): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(key)));
  return `key-${Array.from(hash.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
