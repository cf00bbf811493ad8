/**
 * Base64 (RFC 4648 §4) and base64url (§5) straight between bytes and text: Media Streams frames
 * (a 20 ms frame is 160 μ-law bytes, 50 a second each way per call), Twilio's signatures, and
 * the Worker's own signed tokens and random ids, which go in URLs and forms (base64url,
 * unpadded).
 *
 * Decoding is the runtime's `Uint8Array.fromBase64` (ECMAScript's "Uint8Array to/from base64",
 * in workerd's V8): native, with no atob intermediate binary string. Text is checked here first,
 * because `fromBase64` skips ASCII whitespace: a signature or token spelled with a space inside
 * must not decode to the same bytes. Encoding stays a table lookup here, because it also runs in
 * Node 22, which has no `toBase64`: `scripts/twilio-webhook.ts` signs with src/twilio/sign.ts,
 * and the bench's simulated callers build media payloads (bench/stream-frames.ts).
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** table[code] is 1 for each character of the alphabet (codes below 128). */
function alphabetTable(alphabet: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = 1;
  return table;
}

const IN_STANDARD = alphabetTable(STANDARD);
const IN_URL_SAFE = alphabetTable(URL_SAFE);
const EQUALS = 61;

/**
 * Whether `text` is the alphabet's characters only, then at most two `=`, and a length base64
 * can have: padded text is whole 4-character groups, unpadded text never leaves one character
 * over. Padding bits are not checked (a decoder ignores them, as `fromBase64` does).
 */
function wellFormed(text: string, table: Uint8Array): boolean {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
  if (end % 4 === 1 || (end !== text.length && text.length % 4 !== 0)) return false;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || table[code] === 0) return false;
  }
  return true;
}

/** Whether `text` is standard base64 (padding optional): what decodeBase64 accepts. */
export function isBase64(text: string): boolean {
  return wellFormed(text, IN_STANDARD);
}

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  const whole = bytes.length - (bytes.length % 3);
  for (let i = 0; i < whole; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out +=
      alphabet.charAt(n >> 18) +
      alphabet.charAt((n >> 12) & 63) +
      alphabet.charAt((n >> 6) & 63) +
      alphabet.charAt(n & 63);
  }
  if (bytes.length - whole === 1) {
    const n = (bytes[whole] as number) << 16;
    out += `${alphabet.charAt(n >> 18)}${alphabet.charAt((n >> 12) & 63)}${pad ? "==" : ""}`;
  } else if (bytes.length - whole === 2) {
    const n = ((bytes[whole] as number) << 16) | ((bytes[whole + 1] as number) << 8);
    out += `${alphabet.charAt(n >> 18)}${alphabet.charAt((n >> 12) & 63)}${alphabet.charAt((n >> 6) & 63)}${pad ? "=" : ""}`;
  }
  return out;
}

/** `bytes` as standard base64, padded. */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

/** The bytes `text` encodes, or null when it is not standard base64 (padding optional). */
export function decodeBase64(text: string): Uint8Array | null {
  return isBase64(text) ? Uint8Array.fromBase64(text) : null;
}

/** `bytes` as base64url without padding (RFC 4648 §5), safe in a URL's path, query or a cookie. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

/** The bytes base64url `text` encodes (padding optional), or null when it is not base64url. */
export function decodeBase64Url(text: string): Uint8Array | null {
  return wellFormed(text, IN_URL_SAFE) ? Uint8Array.fromBase64(text, { alphabet: "base64url" }) : null;
}
