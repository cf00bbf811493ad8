import { describe, expect, it } from "vitest";
import { callNumber } from "../../../src/twilio/call-number.ts";

const options = { defaultCountry: "US" };
const inbound = (to: string, from = "+14155550100") => ({ to, from, direction: "inbound" as const });

describe("which number a call is for", () => {
  it("is To on a plain inbound call", () => {
    expect(callNumber(inbound("+18005550105"), options)).toEqual({
      phone: "+18005550105",
      rule: "to",
      caller: "+14155550100",
    });
  });

  it.each([
    "sip:+18005550105@example.sip.twilio.com",
    "sip:+18005550105@example.sip.twilio.com;transport=tls",
    "sips:18005550105@example.sip.us1.twilio.com:5061;transport=tcp",
    "sip:%2B18005550105@example.sip.twilio.com",
  ])("is the SIP user part of %s", (to) => {
    expect(callNumber(inbound(to, "sip:+442071838750@pbx.example.com"), options)).toEqual({
      phone: "+18005550105",
      rule: "sip_user",
      caller: "+442071838750",
    });
  });

  it("finds no number for a SIP user that is not one", () => {
    expect(callNumber(inbound("sip:reception@example.sip.twilio.com"), options)).toMatchObject({
      phone: null,
      rule: "sip_user",
    });
  });

  it.each(["outbound-api", "outbound-dial"] as const)(
    "is From on an %s call, the callee being the other party",
    (direction) => {
      expect(callNumber({ to: "+442071838750", from: "+18005550105", direction }, options)).toEqual({
        phone: "+18005550105",
        rule: "from_outbound",
        caller: "+442071838750",
      });
    },
  );

  it("answers a Voice SDK call with DEFAULT_CLIENT_NUMBER, or the defaults", () => {
    const event = { to: "", from: "client:alice", direction: "inbound" as const };
    expect(callNumber(event, options)).toEqual({
      phone: null,
      rule: "client_default",
      caller: "client:alice",
    });
    expect(callNumber(event, { ...options, defaultClientNumber: "+18005550100" })).toMatchObject({
      phone: "+18005550100",
      rule: "client_default",
    });
    expect(callNumber({ ...event, to: "client:support" }, options).rule).toBe("client_default");
    // A client dialling one of our numbers reaches that number.
    expect(callNumber({ ...event, to: "+18005550105" }, options)).toMatchObject({
      phone: "+18005550105",
      rule: "to",
    });
  });
});
