/**
 * Short-lived HMAC tokens: signed `<Play>` URLs (nobody can use the Worker as a free TTS
 * proxy or read another call's audio), the one-time Media Streams token for a call, and the
 * signed snapshot of how a call was answered (src/call/snapshot.ts).
 * The key is SIGNING_SECRET, or when unset one derived from TWILIO_AUTH_TOKEN, each use
 * domain-separated by a purpose prefix so a token for one thing never verifies as another.
 */

import { decodeBase64Url, encodeBase64Url } from "../base64.ts";
import { hmacKey } from "../hmac.ts";

const encoder = new TextEncoder();

export type TokenPurpose = "audio" | "stream" | "call";

export async function sign(
  secret: string,
  purpose: TokenPurpose,
  subject: string,
  expiresAt: number,
): Promise<string> {
  const key = await hmacKey(secret, "SHA-256");
  return encodeBase64Url(
    new Uint8Array(
      await crypto.subtle.sign("HMAC", key, encoder.encode(`${purpose}\n${subject}\n${expiresAt}`)),
    ),
  );
}

export type TokenCheck = { ok: true } | { ok: false; reason: "expired" | "bad_signature" };

export async function verify(
  secret: string,
  purpose: TokenPurpose,
  subject: string,
  expiresAt: number,
  signature: string,
  now = Date.now(),
): Promise<TokenCheck> {
  const bytes = decodeBase64Url(signature);
  if (!bytes) return { ok: false, reason: "bad_signature" };
  const key = await hmacKey(secret, "SHA-256");
  const valid = await crypto.subtle.verify(
    "HMAC",
    key,
    bytes,
    encoder.encode(`${purpose}\n${subject}\n${expiresAt}`),
  );
  if (!valid) return { ok: false, reason: "bad_signature" };
  // Checked after the signature, so a forged expiry cannot tell an attacker anything.
  return Number.isFinite(expiresAt) && now <= expiresAt ? { ok: true } : { ok: false, reason: "expired" };
}

/**
 * `value` as a readable, tamper-evident token: `<base64url JSON>.<expiresAt>.<HMAC>`, the HMAC
 * (SHA-256, domain-separated by `purpose`) covering the JSON and the expiry (ms since the epoch).
 * Not encrypted: put nothing secret in it. Only URL-safe characters, so it fits a query string.
 */
export async function seal(
  secret: string,
  purpose: TokenPurpose,
  value: unknown,
  expiresAt: number,
): Promise<string> {
  const payload = encodeBase64Url(encoder.encode(JSON.stringify(value)));
  return `${payload}.${expiresAt}.${await sign(secret, purpose, payload, expiresAt)}`;
}

/**
 * The value `seal` put in `token`, if its HMAC holds and it has not expired. A malformed
 * token, or one whose JSON or expiry was changed, is `bad_signature`; the value is not checked
 * further here (the caller validates its shape).
 */
export async function unseal(
  secret: string,
  purpose: TokenPurpose,
  token: string,
  now = Date.now(),
): Promise<{ ok: true; value: unknown } | { ok: false; reason: "expired" | "bad_signature" }> {
  const [payload = "", expires = "", signature = "", ...rest] = token.split(".");
  if (rest.length > 0 || !/^\d+$/.test(expires)) return { ok: false, reason: "bad_signature" };
  const check = await verify(secret, purpose, payload, Number(expires), signature, now);
  if (!check.ok) return check;
  const bytes = decodeBase64Url(payload);
  if (!bytes) return { ok: false, reason: "bad_signature" };
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { ok: false, reason: "bad_signature" };
  }
}

/** SIGNING_SECRET, or a key derived from TWILIO_AUTH_TOKEN so a deployment needs one secret less. */
export function signingSecret(settings: {
  SIGNING_SECRET?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
}): string {
  return settings.SIGNING_SECRET ?? `derived-from-twilio-auth-token:${settings.TWILIO_AUTH_TOKEN ?? ""}`;
}
