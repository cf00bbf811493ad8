import type { Context } from "hono";

/**
 * A Twilio webhook's parameters. Twilio POSTs them as application/x-www-form-urlencoded and signs
 * the URL followed by every pair, sorted (https://www.twilio.com/docs/usage/webhooks/webhooks-security;
 * src/twilio/sign.ts). Parsed once per request, so the signature check and the route read the
 * same pairs. Hono's `parseBody()` builds a FormData (multipart-capable) and converts it, more
 * work for the same pairs (and, as the check called it, it kept only a repeated name's last value).
 */

const parsed = new WeakMap<Request, Promise<[string, string][]>>();

/** Every name/value pair of the request's form, in body order (a repeated name repeats). */
export function twilioFormPairs(c: Context): Promise<[string, string][]> {
  let pairs = parsed.get(c.req.raw);
  if (!pairs) {
    pairs = c.req.text().then(formPairs);
    parsed.set(c.req.raw, pairs);
  }
  return pairs;
}

/** The form as a record (for a repeated name, its last value). */
export async function twilioForm(c: Context): Promise<Record<string, string>> {
  return Object.fromEntries(await twilioFormPairs(c));
}

/**
 * application/x-www-form-urlencoded parsing (https://url.spec.whatwg.org/#urlencoded-parsing) of
 * `body`, text as `Request.text()` gives it (well-formed: no lone surrogate). Done here in plain
 * JavaScript for every body `decodeURIComponent` can read, since URLSearchParams (a runtime
 * object, iterated pair by pair) cost about three times as much for Twilio's 26 parameters, on
 * every webhook. A body with an escape it refuses (a `%` without two hex digits, bytes that are
 * not UTF-8) goes to URLSearchParams, whose lenient rules (keep the `%`, U+FFFD for bad bytes)
 * the spec defines.
 */
export function formPairs(body: string): [string, string][] {
  const pairs: [string, string][] = [];
  try {
    for (const part of body.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      pairs.push(
        eq < 0
          ? [decodeFormText(part), ""]
          : [decodeFormText(part.slice(0, eq)), decodeFormText(part.slice(eq + 1))],
      );
    }
  } catch (err) {
    if (!(err instanceof URIError)) throw err;
    // The constructor drops one leading "?" (a query's), which the form parser keeps: give it one.
    return [...new URLSearchParams(`?${body}`)];
  }
  return pairs;
}

/** One name or value: `+` is a space, then percent-decoding as UTF-8 (URIError if it cannot). */
function decodeFormText(text: string): string {
  const spaced = text.includes("+") ? text.replaceAll("+", " ") : text;
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
}
