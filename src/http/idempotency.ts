import type { Context, MiddlewareHandler } from "hono";
import { sha256Hex } from "../digest.ts";
import { AppError } from "../errors.ts";
import type { WriteTarget } from "./idempotency-record.ts";
import type { AppEnv } from "./types.ts";

/**
 * `Idempotency-Key` on admin writes. The first answer to a key is kept for 24 hours per key
 * and actor (src/http/idempotency-record.ts): the same request again gets that answer again
 * (with `Idempotent-Replayed: true`), another request with the key gets 422, and one that
 * arrives while the first is still running gets 409. When the first attempt's outcome is
 * unknown (the store did not confirm the write in time), the retry runs again with what the
 * first attempt was about to change (`previous`), so the route can see whether it applied and
 * never apply it twice.
 */

/** What a write route gets in `c.var.idempotency` when the request carries a key. */
export interface IdempotentWrite {
  /** the same for every attempt of this key and admin key: names the write in the store's history */
  id: string;
  /** on a retry of an attempt whose outcome is unknown: what that attempt was about to change */
  previous: WriteTarget | null;
  /** Records what this write is about to change; call it right before sending the write. */
  target(target: WriteTarget): Promise<void>;
}

/** Printable ASCII without spaces, as Stripe and the IETF draft's examples (UUIDs) are. */
const KEY = /^[\x21-\x7E]{1,255}$/;

/** JSON with sorted keys, so the same body sent with its fields in another order is the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

async function fingerprintOf(c: Context<AppEnv>): Promise<string> {
  const url = new URL(c.req.url);
  const text = c.req.method === "GET" || c.req.method === "DELETE" ? "" : await c.req.text();
  let body = text;
  try {
    body = JSON.stringify(canonical(JSON.parse(text)));
  } catch {
    // Not JSON: the bytes themselves are the request (validation answers it, and that answer is kept).
  }
  return sha256Hex(`${c.req.method} ${url.pathname}${url.search}\n${body}`);
}

export const idempotency: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = c.req.header("Idempotency-Key");
  if (key === undefined) {
    c.set("idempotency", undefined);
    await next();
    return;
  }
  if (!KEY.test(key)) {
    throw new AppError("VALIDATION_ERROR", "Idempotency-Key must be 1-255 printable ASCII characters", {
      details: [{ field: "Idempotency-Key", rule: "format", message: "1-255 printable ASCII characters" }],
    });
  }
  const namespace = c.env.IDEMPOTENCY;
  const record = namespace.get(namespace.idFromName(`${c.var.keyId}\n${key}`));
  const begun = await record.begin(await fingerprintOf(c));
  if (begun.kind === "replay") {
    return c.body(begun.answer.body, begun.answer.status as 200, {
      "Content-Type": begun.answer.contentType,
      "Idempotent-Replayed": "true",
    });
  }
  if (begun.kind === "mismatch") {
    throw new AppError(
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was used for another request (method, path or body); use a new key for a new request",
      { details: [{ field: "Idempotency-Key", rule: "reused", message: "used before for another request" }] },
    );
  }
  if (begun.kind === "running") {
    throw new AppError(
      "IDEMPOTENCY_IN_PROGRESS",
      "A request with this Idempotency-Key is still being answered; retry it in a few seconds",
    );
  }
  c.set("idempotency", {
    id: record.id.toString(),
    previous: begun.kind === "retry" ? begun.target : null,
    target: (target) => record.target(target),
  });
  await next();
  const status = c.res.status;
  if (status >= 500) {
    // Maybe written, maybe not: the retry finds out from the target.
    await record.unknown();
  } else if (status === 409) {
    // A conflict wrote nothing; the caller retries after reading the current version.
    await record.release();
  } else {
    await record.finish({
      status,
      contentType: c.res.headers.get("Content-Type") ?? "application/json",
      body: await c.res.clone().text(),
    });
  }
};
