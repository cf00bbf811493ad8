import { pathToFileURL } from "node:url";
import { computeSignature } from "../src/twilio/sign.ts";
import { scriptEnv } from "./dev-vars.ts";

/**
 * Plays Twilio against a running server (`npm run dev` first), so a call can be tried without a
 * Twilio account: `npm run twilio:webhook -- [path] [Name=value ...]` POSTs a form-encoded webhook
 * (default path /webhooks/twilio/voice, default form an incoming call to TWILIO_PHONE_NUMBER or
 * +18668134984 from +14155550100 with a fresh CallSid) signed as Twilio signs it: X-Twilio-Signature
 * is base64 HMAC-SHA1, keyed by TWILIO_AUTH_TOKEN, over the URL followed by every parameter's name
 * and value in name order (src/twilio/sign.ts). The URL signed is PUBLIC_BASE_URL + path when
 * set (what the server checks against), else BASE_URL (default http://localhost:4002) + path.
 * Settings come from the environment or .dev.vars. Prints the status and the TwiML answer.
 */

/** One webhook as Twilio would send it: where to POST, and the request to send there. */
export async function signedWebhook(
  settings: Record<string, string>,
  path: string,
  overrides: Record<string, string>,
): Promise<{ url: string; init: RequestInit & { headers: Record<string, string>; body: string } }> {
  const token = settings.TWILIO_AUTH_TOKEN;
  if (!token) throw new Error("TWILIO_AUTH_TOKEN is not set (in the environment or .dev.vars)");
  const base = (settings.BASE_URL ?? "http://localhost:4002").replace(/\/+$/, "");
  const signedBase = (settings.PUBLIC_BASE_URL ?? base).replace(/\/+$/, "");
  const to = settings.TWILIO_PHONE_NUMBER ?? "+18668134984";
  const from = "+14155550100";
  // The form Twilio posts for a new inbound call (Caller/Called repeat From/To).
  const call = { CallSid: `CA${crypto.randomUUID().replaceAll("-", "")}`, CallStatus: "ringing" };
  const account = { AccountSid: `AC${"0".repeat(32)}`, ApiVersion: "2010-04-01", Direction: "inbound" };
  const params = { ...account, ...call, From: from, To: to, Caller: from, Called: to, ...overrides };
  return {
    url: `${base}${path}`,
    init: {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": await computeSignature(token, `${signedBase}${path}`, params),
      },
      body: new URLSearchParams(params).toString(),
    },
  };
}

/** `[path] [Name=value ...]` from the command line. */
export function parseArgs(args: readonly string[]): { path: string; overrides: Record<string, string> } {
  const path = args[0]?.startsWith("/") ? args[0] : "/webhooks/twilio/voice";
  const overrides: Record<string, string> = {};
  for (const arg of args[0]?.startsWith("/") ? args.slice(1) : args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new Error(`expected Name=value, got "${arg}"`);
    overrides[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return { path, overrides };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    const { path, overrides } = parseArgs(process.argv.slice(2));
    const { url, init } = await signedWebhook(scriptEnv(process.cwd(), process.env), path, overrides);
    const response = await fetch(url, init).catch((err: unknown) => {
      throw new Error(`Could not reach ${url}: is the server running (npm run dev)?`, { cause: err });
    });
    console.log(`${response.status} ${response.headers.get("content-type") ?? ""}`);
    console.log(await response.text());
    if (!response.ok) process.exitCode = 1;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
