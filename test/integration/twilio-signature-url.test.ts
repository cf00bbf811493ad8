import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { computeSignature } from "../../src/twilio/signature.ts";
import { testEnv } from "../support/env.ts";
import { callSid, incomingCall } from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";

/**
 * Issue 14, fault 4: a webhook configured as `.../voice?line=o'hara`, signed by Twilio over
 * that exact URL, got 403 because the check ran over the runtime's `o%27hara`.
 */
async function post(requestUrl: string, signedOver: string) {
  const params = incomingCall(callSid(), "+18668134984");
  const response = await exports.default.fetch(requestUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-www-form-urlencoded",
      "X-Twilio-Signature": await computeSignature(testEnv.TWILIO_AUTH_TOKEN, signedOver, params),
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

describe("Twilio webhook signatures over the URL as Twilio sent it", () => {
  const configured = `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice?line=o'hara`;

  it("answers a webhook whose configured URL has a character the runtime re-encodes", async () => {
    const res = await post(configured, configured);
    expect(res.status).toBe(200);
    expect(parseTwiml(res.body).length).toBeGreaterThan(0);
  });

  it("answers the same webhook configured with the encoded spelling", async () => {
    const encoded = `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice?line=o%27hara`;
    expect((await post(encoded, encoded)).status).toBe(200);
  });

  it("refuses a signature over another query or another path", async () => {
    expect(
      (await post(configured, `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice?line=ohara`)).status,
    ).toBe(403);
    expect(
      (await post(configured, `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/status?line=o'hara`)).status,
    ).toBe(403);
  });
});

describe("Twilio webhook signatures over every form pair", () => {
  const url = `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/voice`;
  const send = async (signed: [string, string][], sent: [string, string][]) =>
    (
      await exports.default.fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "X-Twilio-Signature": await computeSignature(testEnv.TWILIO_AUTH_TOKEN, url, signed),
        },
        body: new URLSearchParams(sent).toString(),
      })
    ).status;
  const form = Object.entries(incomingCall(callSid(), "+18668134984"));

  it("accepts a form with a repeated name when Twilio signed each of its pairs", async () => {
    const pairs: [string, string][] = [...form, ["SipHeader_X-Tag", "a"], ["SipHeader_X-Tag", "b"]];
    expect(await send(pairs, pairs)).toBe(200);
  });

  it("refuses it when a repeated pair was added after signing", async () => {
    const signed: [string, string][] = [...form, ["SipHeader_X-Tag", "a"]];
    expect(await send(signed, [...signed, ["SipHeader_X-Tag", "b"]])).toBe(403);
  });
});
