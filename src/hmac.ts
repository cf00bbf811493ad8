/**
 * HMAC keys imported once per isolate: importing a raw key costs about as much CPU as the MAC
 * itself, and every incoming call signs or checks several (Twilio's signature, the call
 * snapshot, the greeting's audio URL). Keyed by hash and secret; bounded, because secrets are
 * few (one per setting) but must never grow the map without end.
 */

const encoder = new TextEncoder();
const MAX_KEYS = 16;
const keys = new Map<string, Promise<CryptoKey>>();

/** `secret` (UTF-8) as an HMAC key for `hash`, usable to sign and to verify. */
export function hmacKey(secret: string, hash: "SHA-1" | "SHA-256"): Promise<CryptoKey> {
  const id = `${hash}\n${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash }, false, [
      "sign",
      "verify",
    ]);
    if (keys.size >= MAX_KEYS) keys.clear();
    keys.set(id, key);
  }
  return key;
}
