/**
 * Short-lived HMAC tokens: signed `<Play>` URLs (nobody can use the Worker as a free TTS
 * proxy or read another call's audio) and the one-time Media Streams token for a call.
 * The key is SIGNING_SECRET, or when unset one derived from TWILIO_AUTH_TOKEN, each use
 * domain-separated by a purpose prefix so a token for one thing never verifies as another.
 */

const encoder = new TextEncoder();

async function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export type TokenPurpose = "audio" | "stream";

export async function sign(
  secret: string,
  purpose: TokenPurpose,
  subject: string,
  expiresAt: number,
): Promise<string> {
  const key = await hmacKey(secret);
  return toBase64Url(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${purpose}\n${subject}\n${expiresAt}`)),
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
  const bytes = fromBase64Url(signature);
  if (!bytes) return { ok: false, reason: "bad_signature" };
  const key = await hmacKey(secret);
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

/** SIGNING_SECRET, or a key derived from TWILIO_AUTH_TOKEN so a deployment needs one secret less. */
export function signingSecret(settings: {
  SIGNING_SECRET?: string | undefined;
  TWILIO_AUTH_TOKEN?: string | undefined;
}): string {
  return settings.SIGNING_SECRET ?? `derived-from-twilio-auth-token:${settings.TWILIO_AUTH_TOKEN ?? ""}`;
}
