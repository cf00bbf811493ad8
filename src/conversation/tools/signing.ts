/**
 * Owner webhooks are signed so the owner can tell our requests from anyone else's:
 *   X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
 * keyed by TOOL_SIGNING_SECRET. The timestamp is inside the MAC, so a receiver that rejects
 * old `t` values (README: five minutes) also rejects replays. README shows the Node verifier.
 */

import { hmacKey } from "../../hmac.ts";

export const SIGNATURE_HEADER = "X-Signature";

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The X-Signature value for `body` (the exact bytes sent, as a string) at `unixSeconds`. */
export async function signatureHeader(secret: string, body: string, unixSeconds: number): Promise<string> {
  const t = Math.floor(unixSeconds);
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret, "SHA-256"),
    encoder.encode(`${t}.${body}`),
  );
  return `t=${t},v1=${hex(mac)}`;
}
