import { beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../../src/conversation/tools/signing.ts";
import { readmeVerifier } from "../fakes/owner.ts";

/**
 * The X-Signature our webhook tools send, checked by the verifier README shows owners, run as
 * printed there: what an owner copying it would get.
 */
let verify: (secret: string, header: string, body: string) => boolean;
beforeAll(async () => {
  verify = await readmeVerifier();
});

const body = JSON.stringify({
  call: { call_sid: "CA1", from: "+14155550100", to: "+18668134984", phone_number: "+18668134984" },
  tool: "lookup_order",
  arguments: { order_id: "A-1042", note: "naïve café ✓" },
});

describe("webhook tool signatures and README's Node verifier", () => {
  it("accepts our signature over the exact body", async () => {
    const header = await signatureHeader("owner-secret", body, Date.now() / 1000);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verify("owner-secret", header, body)).toBe(true);
  });

  it("refuses another secret, a changed body, a changed timestamp and an old one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const header = await signatureHeader("owner-secret", body, now);
    expect(verify("other-secret", header, body)).toBe(false);
    expect(verify("owner-secret", header, body.replace("A-1042", "A-1043"))).toBe(false);
    expect(verify("owner-secret", header.replace(`t=${now}`, `t=${now + 1}`), body)).toBe(false);
    const old = await signatureHeader("owner-secret", body, now - 600);
    expect(verify("owner-secret", old, body)).toBe(false);
    expect(verify("owner-secret", "garbage", body)).toBe(false);
  });
});
