import { sha256Hex } from "../digest.ts";
import { memoize } from "../memo.ts";
import { sign, verify } from "./tokens.ts";

/**
 * Synthesised speech waiting for Twilio to fetch it through `<Play>`. Replies live for an
 * hour (Twilio fetches within seconds); greetings are keyed by (text, model, voice) and kept
 * for a week, so repeated calls to a number never synthesise the same greeting twice.
 */
const REPLY_TTL_SECONDS = 3600;
const GREETING_TTL_SECONDS = 7 * 24 * 3600;
/** How long a signed URL works: enough for Twilio's fetch and a retry, useless for reuse. */
const URL_LIFETIME_MS = 10 * 60 * 1000;

/**
 * How long this isolate hands out the same signed URL of a greeting: every call to a number plays
 * the same greeting, so its URL is signed once a minute, not once a call (an HMAC and its encoding
 * on every incoming call). Every URL handed out still works for at least 9 of its 10 minutes.
 */
const GREETING_URL_REUSE_MS = 60 * 1000;
const MAX_GREETING_URLS = 1000;
/** Greeting URLs signed in this isolate, by secret, base URL and id: the URL and when it was signed. */
const greetingUrls = new Map<string, { url: string; signedAt: number }>();

export const AUDIO_CONTENT_TYPE = "audio/mpeg";

/** How a greeting's id starts, by format; a reply's starts with "r-" (`replyAudioId`). */
const GREETING_PREFIX = { mp3: "g-", mulaw: "u-" } as const;

/** A new id for one reply's audio: replies are never shared, so each has its own. */
export function replyAudioId(): string {
  return `r-${crypto.randomUUID()}`;
}

/**
 * A greeting's cache id: the same text in the same model and voice is the same audio.
 * `mp3` is for <Play>; `mulaw` is 8 kHz μ-law for Media Streams. Remembered per isolate, since
 * every incoming call to a number asks for the same one (a SHA-256 of up to 1,000 characters
 * otherwise).
 */
export async function greetingId(
  text: string,
  model: string,
  voice: string,
  format: "mp3" | "mulaw" = "mp3",
): Promise<string> {
  return `${GREETING_PREFIX[format]}${await rememberedSha256Hex(`${model}\n${voice}\n${text}`)}`;
}

/** sha256Hex remembered per isolate (src/memo.ts). */
const rememberedSha256Hex = memoize(sha256Hex, 1000);

export class AudioStore {
  private readonly kv: KVNamespace;
  private readonly secret: string;
  private readonly publicBaseUrl: string;

  constructor(kv: KVNamespace, secret: string, publicBaseUrl: string) {
    this.kv = kv;
    this.secret = secret;
    this.publicBaseUrl = publicBaseUrl;
  }

  async get(id: string): Promise<ArrayBuffer | null> {
    return (await this.lookup(id))?.bytes ?? null;
  }

  /** The audio and when it expires from the cache (ms since the epoch; null if stored without one). */
  async lookup(id: string): Promise<{ bytes: ArrayBuffer; expiresAt: number | null } | null> {
    const { value, metadata } = await this.kv.getWithMetadata<{ expires_at?: number }>(
      `audio:${id}`,
      "arrayBuffer",
    );
    if (!value) return null;
    return { bytes: value, expiresAt: typeof metadata?.expires_at === "number" ? metadata.expires_at : null };
  }

  /** Stores audio; returns when it expires (ms since the epoch). */
  async put(id: string, audio: Uint8Array, kind: "reply" | "greeting", now = Date.now()): Promise<number> {
    const ttlSeconds = kind === "greeting" ? GREETING_TTL_SECONDS : REPLY_TTL_SECONDS;
    const expiresAt = now + ttlSeconds * 1000;
    await this.kv.put(`audio:${id}`, audio, {
      expirationTtl: ttlSeconds,
      metadata: { expires_at: expiresAt },
    });
    return expiresAt;
  }

  /**
   * A URL that serves the audio for URL_LIFETIME_MS (10 min) from `now` (ms since the epoch). A
   * greeting's (an mp3 greetingId) may be one signed up to GREETING_URL_REUSE_MS earlier.
   */
  async signedUrl(id: string, now = Date.now()): Promise<string> {
    if (!id.startsWith(GREETING_PREFIX.mp3)) return this.freshUrl(id, now);
    const key = `${this.secret}\n${this.publicBaseUrl}\n${id}`;
    const known = greetingUrls.get(key);
    if (known && known.signedAt <= now && now - known.signedAt < GREETING_URL_REUSE_MS) return known.url;
    const url = await this.freshUrl(id, now);
    if (greetingUrls.size >= MAX_GREETING_URLS) greetingUrls.clear();
    greetingUrls.set(key, { url, signedAt: now });
    return url;
  }

  private async freshUrl(id: string, now: number): Promise<string> {
    const expires = now + URL_LIFETIME_MS;
    const sig = await sign(this.secret, "audio", id, expires);
    return `${this.publicBaseUrl}/audio/${encodeURIComponent(id)}.mp3?exp=${expires}&sig=${sig}`;
  }

  verifyUrl(id: string, expires: number, sig: string, now = Date.now()) {
    return verify(this.secret, "audio", id, expires, sig, now);
  }
}
