import { describe, expect, it } from "vitest";
import { computeSignature, signedUrl, verifySignature } from "../../../src/twilio/signature.ts";

// The worked example in Twilio's "Secure webhooks" guide.
const TOKEN = "12345";
const URL_ = "https://mycompany.com/myapp.php?foo=1&bar=2";
const PARAMS: Record<string, string> = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+12349013030",
  Digits: "1234",
  From: "+12349013030",
  To: "+18005551212",
};
const DOCUMENTED = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

describe("computeSignature", () => {
  it("matches Twilio's documented example", async () => {
    expect(await computeSignature(TOKEN, URL_, PARAMS)).toBe(DOCUMENTED);
  });

  it("sorts parameters by name, whatever order the form had", async () => {
    const shuffled: [string, string][] = Object.entries(PARAMS).reverse();
    expect(await computeSignature(TOKEN, URL_, shuffled)).toBe(DOCUMENTED);
    expect(await computeSignature(TOKEN, URL_, new URLSearchParams(shuffled))).toBe(DOCUMENTED);
  });
});

describe("verifySignature", () => {
  it("accepts Twilio's signature of the documented request", async () => {
    expect(await verifySignature(TOKEN, DOCUMENTED, URL_, PARAMS)).toBe(true);
  });

  it.each(Object.keys(PARAMS))("rejects the request when %s was changed", async (name) => {
    expect(await verifySignature(TOKEN, DOCUMENTED, URL_, { ...PARAMS, [name]: `${PARAMS[name]}0` })).toBe(
      false,
    );
  });

  it("rejects a parameter added or removed", async () => {
    expect(await verifySignature(TOKEN, DOCUMENTED, URL_, { ...PARAMS, Extra: "1" })).toBe(false);
    const { Digits: _, ...withoutDigits } = PARAMS;
    expect(await verifySignature(TOKEN, DOCUMENTED, URL_, withoutDigits)).toBe(false);
  });

  it.each([
    ["query", "https://mycompany.com/myapp.php?foo=1&bar=3"],
    ["path", "https://mycompany.com/other.php?foo=1&bar=2"],
    ["host", "https://evil.example/myapp.php?foo=1&bar=2"],
    ["scheme", "http://mycompany.com/myapp.php?foo=1&bar=2"],
  ])("rejects the request at another URL (%s)", async (_, url) => {
    expect(await verifySignature(TOKEN, DOCUMENTED, url, PARAMS)).toBe(false);
  });

  it("rejects another token, an altered signature and a missing one", async () => {
    expect(await verifySignature("54321", DOCUMENTED, URL_, PARAMS)).toBe(false);
    expect(await verifySignature(TOKEN, DOCUMENTED.replace("0/", "1/"), URL_, PARAMS)).toBe(false);
    expect(await verifySignature(TOKEN, DOCUMENTED.slice(0, -1), URL_, PARAMS)).toBe(false);
    expect(await verifySignature(TOKEN, undefined, URL_, PARAMS)).toBe(false);
    expect(await verifySignature(TOKEN, "", URL_, PARAMS)).toBe(false);
  });

  it("accepts only the canonical spelling of a signature, not one decoding to the same bytes", async () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // The 27th letter carries 4 bits of the MAC and 2 that base64 ignores: flip one of those.
    const sibling = alphabet[alphabet.indexOf(DOCUMENTED.charAt(26)) ^ 1];
    const spelled = `${DOCUMENTED.slice(0, 26)}${sibling}${DOCUMENTED.slice(27)}`;
    expect(spelled).not.toBe(DOCUMENTED);
    expect(await verifySignature(TOKEN, spelled, URL_, PARAMS)).toBe(false);
    expect(await verifySignature(TOKEN, DOCUMENTED, URL_, PARAMS)).toBe(true);
  });

  it("accepts a signature made with the default port when the URL has none, and the reverse", async () => {
    const withPort = await computeSignature(TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS);
    expect(await verifySignature(TOKEN, withPort, URL_, PARAMS)).toBe(true);
    expect(
      await verifySignature(TOKEN, DOCUMENTED, "https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS),
    ).toBe(true);
  });

  it("does not accept a signature made for another port", async () => {
    const otherPort = await computeSignature(
      TOKEN,
      "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
      PARAMS,
    );
    expect(await verifySignature(TOKEN, otherPort, URL_, PARAMS)).toBe(false);
  });

  it("verifies a Media Streams upgrade, signed over the wss URL with no parameters", async () => {
    const url = "wss://voice.example.test/twilio/stream/CA123";
    const signature = await computeSignature(TOKEN, url);
    expect(await verifySignature(TOKEN, signature, url)).toBe(true);
    expect(await verifySignature(TOKEN, signature, "https://voice.example.test/twilio/stream/CA123")).toBe(
      false,
    );
  });
});

describe("signedUrl", () => {
  it("is the request URL when no public base URL is set", () => {
    expect(signedUrl("https://voice.example.test/twilio/voice?x=1")).toBe(
      "https://voice.example.test/twilio/voice?x=1",
    );
  });

  it("takes origin from the public base URL and path and query from the request", () => {
    expect(signedUrl("http://localhost:4002/twilio/voice?x=1&y=2", "https://abc.ngrok.app")).toBe(
      "https://abc.ngrok.app/twilio/voice?x=1&y=2",
    );
  });

  it("puts the public base URL's path prefix in front of the request path, once", () => {
    expect(signedUrl("http://localhost:4002/twilio/voice", "https://proxy.example/agent/")).toBe(
      "https://proxy.example/agent/twilio/voice",
    );
    expect(signedUrl("https://proxy.example/agent/twilio/voice", "https://proxy.example/agent")).toBe(
      "https://proxy.example/agent/twilio/voice",
    );
  });

  it("gives the ws/wss URL for a WebSocket upgrade", () => {
    expect(
      signedUrl("http://localhost:4002/twilio/stream", "https://abc.ngrok.app", { websocket: true }),
    ).toBe("wss://abc.ngrok.app/twilio/stream");
    expect(signedUrl("http://localhost:4002/twilio/stream", undefined, { websocket: true })).toBe(
      "ws://localhost:4002/twilio/stream",
    );
  });

  it("lets a request Twilio signed at the public URL verify where the Worker sees it", async () => {
    const signature = await computeSignature(TOKEN, "https://abc.ngrok.app/twilio/voice", PARAMS);
    const url = signedUrl("http://localhost:4002/twilio/voice", "https://abc.ngrok.app");
    expect(await verifySignature(TOKEN, signature, url, PARAMS)).toBe(true);
  });
});

describe("verifySignature: the URL as Twilio sent it, not as the runtime re-encoded it", () => {
  // Twilio signs the URL exactly as configured; the runtime's URL parser percent-encodes some
  // characters on its own (' in a query, space, quotes, <>, `{} in a path, non-ASCII anywhere).
  it.each([
    ["a quote in the query", "https://voice.example.test/voice?line=o'hara"],
    ["spaces and double quotes", 'https://voice.example.test/voice?name=Mary Ann&q="x"'],
    ["angle brackets in the query", "https://voice.example.test/voice?tag=<vip>"],
    ["braces and a backtick in the path", "https://voice.example.test/v{1}/`voice`"],
    ["non-ASCII letters", "https://voice.example.test/voix?ligne=José"],
    ["one spelling in the path, another in the query", "https://voice.example.test/a%27b/voice?line=o'hara"],
  ])("accepts a signature over %s", async (_, asConfigured) => {
    const seen = new URL(asConfigured).href;
    expect(seen).not.toBe(asConfigured);
    const signature = await computeSignature(TOKEN, asConfigured, PARAMS);
    expect(await verifySignature(TOKEN, signature, seen, PARAMS)).toBe(true);
  });

  it("still accepts a signature over the encoded spelling", async () => {
    const encoded = "https://voice.example.test/voice?line=o%27hara";
    expect(
      await verifySignature(TOKEN, await computeSignature(TOKEN, encoded, PARAMS), encoded, PARAMS),
    ).toBe(true);
  });

  it.each([
    ["another query value", "https://voice.example.test/voice?line=ohara"],
    ["another path", "https://voice.example.test/recording?line=o'hara"],
    ["an encoded ? that moves the query into the path", "https://voice.example.test/voice%3Fline=o'hara"],
    ["an encoded & that joins two parameters", "https://voice.example.test/voice?line=o'hara%26x=1"],
    ["a double-encoded quote", "https://voice.example.test/voice?line=o%2527hara"],
  ])("never accepts a signature over %s", async (_, signedOver) => {
    const seen = new URL("https://voice.example.test/voice?line=o'hara").href;
    const signature = await computeSignature(TOKEN, signedOver, PARAMS);
    expect(await verifySignature(TOKEN, signature, seen, PARAMS)).toBe(false);
  });
});
