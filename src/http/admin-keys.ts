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

export interface AdminKey {
  /** recorded as the actor of every change made with the key; never the key itself */
  name: string;
  key: string;
}

/** The name a bare key (no `name:` prefix) goes by. */
export const DEFAULT_KEY_NAME = "admin";

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * ADMIN_API_KEY as keys: comma-separated entries (several, so a key can be rotated without
 * downtime), each `name:key` or a bare key (named "admin"). An entry whose part before the
 * first `:` is not a name (letters, digits, `._@-`, at most 64) is a bare key that happens
 * to hold a colon.
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

export function adminKeys(settings: Pick<Settings, "ADMIN_API_KEY">): AdminKey[] {
  return parseAdminKeys(settings.ADMIN_API_KEY);
}

/** The configured key that `given` equals, with its name, or undefined. */
export async function matchAdminKey(
  settings: Pick<Settings, "ADMIN_API_KEY">,
  given: string,
): Promise<AdminKey | undefined> {
  const keys = adminKeys(settings);
  const checks = await Promise.all(keys.map(({ key }) => sameSecret(given, key)));
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
