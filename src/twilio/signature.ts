import { decodeBase64, encodeBase64 } from "../base64.ts";
import { hmacKey } from "../hmac.ts";
import { type SignedParams, signedParamsText } from "./sign.ts";

export { computeSignature, type SignedParams } from "./sign.ts";

/**
 * Checking Twilio's request signature (the X-Twilio-Signature header; computed in ./sign.ts)
 * against the URL as the runtime shows it, and which URL Twilio signed behind a proxy.
 */

const encoder = new TextEncoder();
const SIGNATURE_LENGTH = 28;

const DEFAULT_PORTS: Record<string, string> = { http: "80", https: "443", ws: "80", wss: "443" };

/**
 * Twilio documents that it may sign a URL with or without its port (an explicit default port such
 * as :443 may be added or dropped), so a URL stands for up to three candidates. Edited as text
 * because `new URL()` would silently drop a default port and re-encode the query.
 */
function portVariants(url: string): string[] {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme = "", authority = "", rest = ""] = match;
  const withoutPort = authority.replace(/:\d*$/, "");
  const variants = new Set([url, `${scheme}://${withoutPort}${rest}`]);
  const defaultPort = DEFAULT_PORTS[scheme.toLowerCase()];
  if (withoutPort === authority && defaultPort)
    variants.add(`${scheme}://${authority}:${defaultPort}${rest}`);
  return [...variants];
}

/**
 * Escapes a WHATWG URL parser writes on its own (url.spec.whatwg.org, percent-encode sets): in a
 * path space " < > ` { }, in a special scheme's query space " ' < >, and non-ASCII anywhere. The
 * runtime hands us the request URL already parsed, so an escape may be the parser's, not Twilio's.
 * `#`, `?`, `&`, `=`, `/` and `%` are never among them: decoding those would change the URL's meaning.
 */
const PARSER_ESCAPE = /%(?:2[027]|3[CE]|60|7[BD])|%[C-F][0-9A-F](?:%[89AB][0-9A-F]){1,3}/gi;

function undoParserEscapes(text: string): string {
  return text.replace(PARSER_ESCAPE, (escaped) => {
    try {
      return decodeURIComponent(escaped);
    } catch {
      return escaped; // not UTF-8: the sender wrote these bytes
    }
  });
}

/**
 * The spellings Twilio may have signed for the URL the runtime shows us: as it is, and with the
 * parser's own escapes undone in the path, the query or both. A spelling counts only if the
 * runtime parses it back to this very URL, so no signature over another path or query is accepted.
 */
function sentSpellings(url: string): string[] {
  // Without an escape there is nothing to undo: the URL is the only spelling.
  if (!url.includes("%") || !URL.canParse(url)) return [url];
  const href = new URL(url).href;
  const queryAt = url.indexOf("?");
  const head = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? "" : url.slice(queryAt);
  const schemeEnd = head.indexOf("://") + 3;
  const pathAt = head.indexOf("/", schemeEnd);
  const origin = pathAt < 0 ? head : head.slice(0, pathAt);
  const path = pathAt < 0 ? "" : head.slice(pathAt);
  const spellings = new Set([url]);
  for (const p of [path, undoParserEscapes(path)]) {
    for (const q of [query, undoParserEscapes(query)]) {
      const candidate = `${origin}${p}${q}`;
      if (URL.canParse(candidate) && new URL(candidate).href === href) spellings.add(candidate);
    }
  }
  return [...spellings];
}

/**
 * Whether `signature` is Twilio's signature of a request to `url` with `params`. `url` may be
 * the runtime's re-encoded form of what Twilio sent (see `sentSpellings`) and may differ from
 * it by a default port.
 */
export async function verifySignature(
  authToken: string,
  signature: string | null | undefined,
  url: string,
  params?: SignedParams,
): Promise<boolean> {
  // Twilio sends the 20-byte HMAC-SHA1 as padded base64: 28 characters, always, and only the
  // canonical spelling of a MAC is accepted (the last letter has two bits base64 ignores).
  const mac = signature?.length === SIGNATURE_LENGTH ? decodeBase64(signature) : null;
  if (!mac || encodeBase64(mac) !== signature) return false;
  const key = await hmacKey(authToken, "SHA-1");
  const signedParams = signedParamsText(params);
  // crypto.subtle.verify compares in constant time, so which spelling matched tells nothing.
  const signs = (candidate: string) =>
    crypto.subtle.verify("HMAC", key, mac, encoder.encode(candidate + signedParams));
  // One HMAC for the usual request (the URL as it is); the other spellings, worked out only
  // when it fails.
  if (await signs(url)) return true;
  for (const candidate of sentSpellings(url).flatMap(portVariants)) {
    if (candidate !== url && (await signs(candidate))) return true;
  }
  return false;
}

/**
 * The URL Twilio signed for a request the Worker received as `requestUrl`. Behind a proxy or a
 * tunnel to `wrangler dev`, the Worker sees another host (and maybe no path prefix) than Twilio
 * requested; PUBLIC_BASE_URL says what Twilio was given, so its origin and path prefix replace the
 * request's. A request path that already carries the prefix keeps it once. For a WebSocket upgrade
 * (`websocket: true`) the scheme becomes ws/wss, as in the <Stream url> Twilio connected to.
 */
export function signedUrl(
  requestUrl: string,
  publicBaseUrl?: string,
  options: { websocket?: boolean } = {},
): string {
  const request = new URL(requestUrl);
  let url = requestUrl;
  if (publicBaseUrl) {
    const base = new URL(publicBaseUrl);
    const prefix = base.pathname.replace(/\/+$/, "");
    const hasPrefix = request.pathname === prefix || request.pathname.startsWith(`${prefix}/`);
    url = `${base.origin}${hasPrefix ? "" : prefix}${request.pathname}${request.search}`;
  }
  return options.websocket ? url.replace(/^http(s?):/i, "ws$1:") : url;
}
