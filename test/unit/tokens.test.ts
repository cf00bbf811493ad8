import { describe, expect, it } from "vitest";
import { Budget } from "../../src/call/budget.ts";
import { sign, signingSecret, verify } from "../../src/call/tokens.ts";

describe("signed tokens", () => {
  it("verifies its own token until it expires", async () => {
    const sig = await sign("secret", "audio", "r-1", 2_000);
    expect(await verify("secret", "audio", "r-1", 2_000, sig, 1_999)).toEqual({ ok: true });
    expect(await verify("secret", "audio", "r-1", 2_000, sig, 2_001)).toEqual({
      ok: false,
      reason: "expired",
    });
  });

  it("refuses another subject, purpose, expiry or key", async () => {
    const sig = await sign("secret", "audio", "r-1", 2_000);
    for (const [secret, purpose, subject, exp] of [
      ["secret", "audio", "r-2", 2_000],
      ["secret", "stream", "r-1", 2_000],
      ["secret", "audio", "r-1", 9_000],
      ["other", "audio", "r-1", 2_000],
    ] as const) {
      expect(await verify(secret, purpose, subject, exp, sig, 1_000)).toEqual({
        ok: false,
        reason: "bad_signature",
      });
    }
    expect(await verify("secret", "audio", "r-1", 2_000, "not base64!", 1_000)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("derives a key from the Twilio auth token when no SIGNING_SECRET is set", () => {
    expect(signingSecret({ SIGNING_SECRET: "s" })).toBe("s");
    expect(signingSecret({ TWILIO_AUTH_TOKEN: "t" })).not.toBe(signingSecret({ TWILIO_AUTH_TOKEN: "u" }));
  });
});

describe("webhook time budget", () => {
  it("gives each step what is left after keeping back time for the steps after it", () => {
    let now = 0;
    const budget = new Budget(12_000, () => now);
    expect(budget.sliceMs(5_000, 5_000)).toBe(5_000);
    now = 5_000;
    expect(budget.sliceMs(6_000, 2_000)).toBe(5_000);
    now = 11_900;
    expect(budget.sliceMs(4_500, 300)).toBe(250);
    expect(budget.remaining()).toBe(100);
  });
});
