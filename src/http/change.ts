import type { Context } from "hono";
import { AppError } from "../errors.ts";
import { SYSTEM_ACTOR } from "../stores/revision.ts";
import type { ChangeInfo } from "../stores/store.ts";
import type { AppEnv } from "./types.ts";

/**
 * What an admin request says about the change it makes: who (the admin key's name), why
 * (X-Change-Reason) and on which version (If-Match). Versions travel as strong ETags, `"7"`.
 */

/** Longest X-Change-Reason kept, in characters. */
export const MAX_REASON_LENGTH = 200;

/** `any`: `If-Match: *` (the number must exist); `versions`: one of these must be current. */
export type IfMatch = { any: true } | { any: false; versions: number[] };

/** The ETag of a version: `"7"`. */
export const etagOf = (version: number) => `"${version}"`;

/** Who and why, from the authenticated key and X-Change-Reason (400 when over 200 characters). */
export function changeOf(c: Context<AppEnv>, template?: string): ChangeInfo {
  const reason = c.req.header("X-Change-Reason")?.trim();
  if (reason && reason.length > MAX_REASON_LENGTH) {
    throw new AppError("VALIDATION_ERROR", `X-Change-Reason is longer than ${MAX_REASON_LENGTH} characters`, {
      details: [
        {
          field: "X-Change-Reason",
          rule: "too_big",
          message: `X-Change-Reason: at most ${MAX_REASON_LENGTH} characters (got ${reason.length})`,
        },
      ],
    });
  }
  return {
    actor: c.var.actor ?? SYSTEM_ACTOR,
    ...(reason ? { reason } : {}),
    ...(template ? { template } : {}),
  };
}

/**
 * If-Match as versions (RFC 9110 §13.1.1): `*`, or a list of entity tags; a weak one (`W/"7"`)
 * is compared like a strong one, since a version names exactly one document. Anything that is
 * not a version of ours is a 400 that says what was expected.
 */
export function ifMatchOf(c: Context<AppEnv>): IfMatch | undefined {
  const header = c.req.header("If-Match")?.trim();
  if (!header) return undefined;
  if (header === "*") return { any: true };
  const versions = header.split(",").map((tag) => /^(?:W\/)?"(\d{1,15})"$/.exec(tag.trim())?.[1]);
  if (versions.some((v) => v === undefined)) {
    throw new AppError("VALIDATION_ERROR", `If-Match must be a version's ETag such as "3" (got ${header})`, {
      details: [{ field: "If-Match", rule: "etag", message: 'If-Match: expected an ETag such as "3", or *' }],
    });
  }
  return { any: false, versions: versions.map(Number) };
}
