import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import { encodeBase64Url } from "../base64.ts";
import { sha256Hex } from "../digest.ts";
import type { Settings } from "../env.ts";
import { adminKeys, sameSecret } from "./admin-keys.ts";

/**
 * The console's session: an admin key exchanged for a signed cookie (hono/cookie, HMAC-SHA256),
 * `HttpOnly`, `SameSite=Strict`, `Secure` (with the `__Host-` prefix) everywhere but localhost,
 * for 12 hours. The cookie carries its expiry, a CSRF token for the session's forms, and a
 * fingerprint of the admin key it was opened with: removing that key from ADMIN_API_KEY ends
 * its sessions. Before sign-in, the sign-in form's CSRF token lives in a short-lived cookie.
 */

/** 12 hours, in seconds. */
export const SESSION_TTL_S = 12 * 60 * 60;
const LOGIN_TTL_S = 30 * 60;
const SESSION_COOKIE = "console_session";
const LOGIN_COOKIE = "console_login";

export interface ConsoleSession {
  /** expiry, ms since the epoch */
  exp: number;
  /** the token every form of this session carries in `_csrf` */
  csrf: string;
  /** first 16 hex digits of SHA-256 of the admin key used to sign in */
  key: string;
  /** that key's name in ADMIN_API_KEY, the actor of the session's changes (read, not stored) */
  name?: string;
}

export function randomToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(24)));
}

const keyFingerprint = async (key: string) => (await sha256Hex(`console-key\n${key}`)).slice(0, 16);

/**
 * The cookie signing secret: SIGNING_SECRET when set, else derived from ADMIN_API_KEY (whose
 * presence the console requires anyway), domain-separated from every other use of either.
 */
function cookieSecret(settings: Settings): string {
  return `console-session\n${settings.SIGNING_SECRET ?? `admin:${settings.ADMIN_API_KEY ?? ""}`}`;
}

/** Plain http on localhost (wrangler dev) cannot keep a Secure cookie; everywhere else it must. */
export function isLocalhost(url: string): boolean {
  const { hostname } = new URL(url);
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

function cookieOptions(c: Context, maxAge: number): CookieOptions {
  const local = isLocalhost(c.req.url);
  return {
    path: "/",
    httpOnly: true,
    sameSite: "Strict",
    maxAge,
    ...(local ? { secure: false } : { secure: true, prefix: "host" as const }),
  };
}

const prefixFor = (c: Context) => (isLocalhost(c.req.url) ? undefined : ("host" as const));

async function readJson<T>(c: Context, settings: Settings, name: string): Promise<T | undefined> {
  const value = await getSignedCookie(c, cookieSecret(settings), name, prefixFor(c));
  if (!value) return undefined;
  try {
    return JSON.parse(atob(value)) as T;
  } catch {
    return undefined;
  }
}

/** Opens a session for `key` (already checked against ADMIN_API_KEY) and sets its cookie. */
export async function startSession(c: Context, settings: Settings, key: string): Promise<ConsoleSession> {
  const session: ConsoleSession = {
    exp: Date.now() + SESSION_TTL_S * 1000,
    csrf: randomToken(),
    key: await keyFingerprint(key),
  };
  await setSignedCookie(
    c,
    SESSION_COOKIE,
    btoa(JSON.stringify(session)),
    cookieSecret(settings),
    cookieOptions(c, SESSION_TTL_S),
  );
  deleteCookie(c, LOGIN_COOKIE, cookieOptions(c, 0));
  return session;
}

/** The request's session when its cookie is authentic, unexpired, and its key still configured. */
export async function readSession(c: Context, settings: Settings): Promise<ConsoleSession | undefined> {
  const session = await readJson<ConsoleSession>(c, settings, SESSION_COOKIE);
  if (!session || typeof session.exp !== "number" || session.exp <= Date.now()) return undefined;
  const keys = adminKeys(settings);
  const fingerprints = await Promise.all(keys.map(({ key }) => keyFingerprint(key)));
  const signedInWith = keys[fingerprints.indexOf(session.key)];
  return signedInWith ? { ...session, name: signedInWith.name } : undefined;
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, cookieOptions(c, 0));
}

/** The sign-in form's CSRF token: the one in its cookie, or a new one (cookie set). */
export async function loginToken(c: Context, settings: Settings): Promise<string> {
  const existing = await readJson<{ csrf: string }>(c, settings, LOGIN_COOKIE);
  if (existing?.csrf) return existing.csrf;
  const csrf = randomToken();
  await setSignedCookie(
    c,
    LOGIN_COOKIE,
    btoa(JSON.stringify({ csrf })),
    cookieSecret(settings),
    cookieOptions(c, LOGIN_TTL_S),
  );
  return csrf;
}

export async function checkLoginToken(c: Context, settings: Settings, given: string): Promise<boolean> {
  const existing = await readJson<{ csrf: string }>(c, settings, LOGIN_COOKIE);
  return Boolean(existing?.csrf) && (await sameSecret(given, existing?.csrf ?? ""));
}
