import { describe, expect, it } from "vitest";
import { AudioStore, greetingId } from "../../../src/call/audio-store.ts";
import { testEnv } from "../../support/env.ts";

const MINUTE = 60_000;

/** The URL's expiry, and whether the store takes it at `now`. */
async function check(audio: AudioStore, id: string, href: string, now: number) {
  const url = new URL(href);
  const expires = Number(url.searchParams.get("exp"));
  const signature = url.searchParams.get("sig") ?? "";
  return { expires, check: await audio.verifyUrl(id, expires, signature, now) };
}

describe("signed audio URLs", () => {
  const audio = new AudioStore(testEnv.AUDIO_CACHE, "audio-url-test-secret", "https://voice.example.test");
  const start = Date.UTC(2026, 10, 30, 12, 0, 0);

  it("gives every call to a number the same greeting URL for a minute, each with 9 minutes or more to run", async () => {
    const id = await greetingId(`Hello ${crypto.randomUUID()}`, "tts-1", "nova");
    const first = await audio.signedUrl(id, start);
    expect(await audio.signedUrl(id, start + 59_999)).toBe(first);
    const late = await check(audio, id, first, start + 59_999);
    expect(late.check).toEqual({ ok: true });
    expect(late.expires - (start + 59_999)).toBeGreaterThan(9 * MINUTE);

    const next = await audio.signedUrl(id, start + MINUTE);
    expect(next).not.toBe(first);
    expect((await check(audio, id, next, start + MINUTE)).expires).toBe(start + 11 * MINUTE);
  });

  it("signs a new URL for a greeting asked for at an earlier time than the one it has", async () => {
    const id = await greetingId(`Hello ${crypto.randomUUID()}`, "tts-1", "nova");
    const later = await audio.signedUrl(id, start + 5 * MINUTE);
    const earlier = await audio.signedUrl(id, start);
    expect(earlier).not.toBe(later);
    expect((await check(audio, id, earlier, start)).expires).toBe(start + 10 * MINUTE);
  });

  it("signs each reply's URL anew, and never gives one deployment's greeting URL to another", async () => {
    const reply = `r-${crypto.randomUUID()}`;
    expect(await audio.signedUrl(reply, start)).not.toBe(await audio.signedUrl(reply, start + 1));

    const id = await greetingId(`Hello ${crypto.randomUUID()}`, "tts-1", "nova");
    const other = new AudioStore(testEnv.AUDIO_CACHE, "another-secret", "https://voice.example.test");
    const elsewhere = new AudioStore(
      testEnv.AUDIO_CACHE,
      "audio-url-test-secret",
      "https://other.example.test",
    );
    const ours = await audio.signedUrl(id, start);
    const theirs = await other.signedUrl(id, start);
    expect(theirs).not.toBe(ours);
    expect((await check(other, id, theirs, start)).check).toEqual({ ok: true });
    expect((await check(audio, id, theirs, start)).check).toEqual({ ok: false, reason: "bad_signature" });
    expect(await elsewhere.signedUrl(id, start)).toMatch(/^https:\/\/other\.example\.test\/audio\//);
  });

  it("lets a URL expire after its 10 minutes", async () => {
    const id = await greetingId(`Hello ${crypto.randomUUID()}`, "tts-1", "nova");
    const url = await audio.signedUrl(id, start);
    expect((await check(audio, id, url, start + 10 * MINUTE + 1)).check).toEqual({
      ok: false,
      reason: "expired",
    });
  });
});
