import type { Context } from "hono";

/**
 * A Twilio webhook's parameters. Twilio POSTs them as application/x-www-form-urlencoded and signs
 * the URL followed by every pair, sorted (https://www.twilio.com/docs/usage/webhooks/webhooks-security;
 * src/twilio/sign.ts). Parsed once per request, so the signature check and the route read the
 * same pairs, and as URLSearchParams: Hono's `parseBody()` builds a FormData (multipart-capable)
 * and converts it, more work for the same pairs (and, as the check called it, it kept only a
 * repeated name's last value).
 */

const parsed = new WeakMap<Request, Promise<[string, string][]>>();

/** Every name/value pair of the request's form, in body order (a repeated name repeats). */
export function twilioFormPairs(c: Context): Promise<[string, string][]> {
  let pairs = parsed.get(c.req.raw);
  if (!pairs) {
    pairs = c.req.text().then((body) => [...new URLSearchParams(body)]);
    parsed.set(c.req.raw, pairs);
  }
  return pairs;
}

/** The form as a record (for a repeated name, its last value). */
export async function twilioForm(c: Context): Promise<Record<string, string>> {
  return Object.fromEntries(await twilioFormPairs(c));
}
