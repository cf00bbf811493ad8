import { encodeBase64 } from "../base64.ts";
import { hmacKey } from "../hmac.ts";

/**
 * Computing Twilio's request signature (the X-Twilio-Signature header): base64 of an HMAC-SHA1,
 * keyed by the account's auth token, over the URL Twilio requested followed, for form POSTs, by
 * every parameter's name and value in name order. WebSocket upgrades (Media Streams) are signed
 * over the wss URL alone. Only Web Crypto, so Node scripts (scripts/twilio-webhook.ts) sign the
 * same way the Worker checks (src/twilio/signature.ts).
 */

export type SignedParams = Record<string, string> | Iterable<readonly [string, string]>;

const encoder = new TextEncoder();

/**
 * The part of the signed text after the URL: every parameter's name and value, in name order
 * (then value order); "" without parameters.
 */
export function signedParamsText(params: SignedParams | undefined): string {
  const pairs: (readonly [string, string])[] =
    params === undefined
      ? []
      : Symbol.iterator in params
        ? [...(params as Iterable<readonly [string, string]>)]
        : Object.entries(params);
  pairs.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1));
  let data = "";
  let previous: readonly [string, string] | undefined;
  for (const pair of pairs) {
    // Twilio's helper libraries sort by name, then value, and count a repeated identical pair once.
    if (previous && previous[0] === pair[0] && previous[1] === pair[1]) continue;
    data += pair[0] + pair[1];
    previous = pair;
  }
  return data;
}

/** Base64 of the HMAC-SHA1 of `text` (the URL, then `signedParamsText`) under `key`. */
async function signText(key: CryptoKey, text: string): Promise<string> {
  return encodeBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text))));
}

function sign(key: CryptoKey, url: string, params: SignedParams | undefined): Promise<string> {
  return signText(key, url + signedParamsText(params));
}

/** The signature Twilio would send for a request to `url` carrying `params` (omit for GETs and WebSockets). */
export async function computeSignature(
  authToken: string,
  url: string,
  params?: SignedParams,
): Promise<string> {
  return sign(await hmacKey(authToken, "SHA-1"), url, params);
}
