import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseArgs, signedWebhook } from "../../scripts/twilio-webhook.ts";

/** Twilio's documented algorithm, computed independently with Node's crypto. */
function twilioSignature(token: string, url: string, form: string): string {
  const params = [...new URLSearchParams(form)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const data = url + params.map(([k, v]) => k + v).join("");
  return createHmac("sha1", token).update(data).digest("base64");
}

describe("npm run twilio:webhook", () => {
  it("signs an incoming call over the URL the server checks, PUBLIC_BASE_URL when set", async () => {
    const { url, init } = await signedWebhook(
      { TWILIO_AUTH_TOKEN: "tok", BASE_URL: "http://localhost:4002", PUBLIC_BASE_URL: "https://x.example" },
      "/webhooks/twilio/voice",
      { From: "+447400123456" },
    );
    expect(url).toBe("http://localhost:4002/webhooks/twilio/voice");
    const form = new URLSearchParams(init.body);
    expect(form.get("From")).toBe("+447400123456");
    expect(form.get("To")).toBe("+18668134984");
    expect(form.get("CallSid")).toMatch(/^CA[0-9a-f]{32}$/);
    expect(init.headers["X-Twilio-Signature"]).toBe(
      twilioSignature("tok", "https://x.example/webhooks/twilio/voice", init.body),
    );
  });

  it("signs over BASE_URL without PUBLIC_BASE_URL, and refuses without a token", async () => {
    const { init } = await signedWebhook({ TWILIO_AUTH_TOKEN: "tok" }, "/webhooks/twilio/status", {});
    expect(init.headers["X-Twilio-Signature"]).toBe(
      twilioSignature("tok", "http://localhost:4002/webhooks/twilio/status", init.body),
    );
    await expect(signedWebhook({}, "/webhooks/twilio/voice", {})).rejects.toThrow("TWILIO_AUTH_TOKEN");
  });

  it("reads a path and Name=value pairs from the command line", () => {
    expect(parseArgs([])).toEqual({ path: "/webhooks/twilio/voice", overrides: {} });
    expect(parseArgs(["/webhooks/twilio/status", "CallStatus=completed"])).toEqual({
      path: "/webhooks/twilio/status",
      overrides: { CallStatus: "completed" },
    });
    expect(() => parseArgs(["oops"])).toThrow('expected Name=value, got "oops"');
  });
});
