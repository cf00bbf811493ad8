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

export const AUDIO_CONTENT_TYPE = "audio/mpeg";

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
  return `${format === "mp3" ? "g" : "u"}-${await rememberedSha256Hex(`${model}\n${voice}\n${text}`)}`;
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

  async signedUrl(id: string, now = Date.now()): Promise<string> {
    const expires = now + URL_LIFETIME_MS;
    const sig = await sign(this.secret, "audio", id, expires);
    return `${this.publicBaseUrl}/audio/${encodeURIComponent(id)}.mp3?exp=${expires}&sig=${sig}`;
  }

  verifyUrl(id: string, expires: number, sig: string, now = Date.now()) {
    return verify(this.secret, "audio", id, expires, sig, now);
  }
}
