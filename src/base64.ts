/**
 * Base64 (RFC 4648 §4) and base64url (§5) straight between bytes and text, by table lookup,
 * without atob/btoa's intermediate binary strings: Media Streams frames (a 20 ms frame is 160
 * μ-law bytes, 50 a second each way per call), Twilio's signatures, and the Worker's own signed
 * tokens and random ids, which go in URLs and forms (base64url, unpadded).
 */

const STANDARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function decodeTable(alphabet: string): Int16Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const DECODE_STANDARD = decodeTable(STANDARD);
const DECODE_URL_SAFE = decodeTable(URL_SAFE);

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

function decode(text: string, table: Int16Array): Uint8Array | null {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 61) end--;
  if (end % 4 === 1 || (end !== text.length && text.length % 4 !== 0)) return null;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (table[code] as number) : -1;
    if (value < 0) return null;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/** `bytes` as standard base64, padded. */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD, true);
}

/** The bytes `text` encodes, or null when it is not standard base64 (padding optional). */
export function decodeBase64(text: string): Uint8Array | null {
  return decode(text, DECODE_STANDARD);
}

/** `bytes` as base64url without padding (RFC 4648 §5), safe in a URL's path, query or a cookie. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_SAFE, false);
}

/** The bytes base64url `text` encodes (padding optional), or null when it is not base64url. */
export function decodeBase64Url(text: string): Uint8Array | null {
  return decode(text, DECODE_URL_SAFE);
}
