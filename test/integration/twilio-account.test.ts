import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CallSession } from "../../src/call/session.ts";
import { defaultCallConfig } from "../../src/config/defaults.ts";
import type { E164 } from "../../src/config/phone-number.ts";
import { settingsOf } from "../../src/env.ts";
import { TwilioError, TwilioRest } from "../../src/twilio/rest.ts";
import { testEnv } from "../support/env.ts";
import { ACCOUNT_SID, callSid } from "../support/twilio.ts";
import { twilioFake } from "../support/twilio-fake.ts";

/**
 * Issue 14, fault 5: with TWILIO_AUTH_TOKEN set but no TWILIO_ACCOUNT_SID, recordings and
 * hang-ups were requested at /2010-04-01/Accounts//Calls/... and silently failed.
 */
describe("Twilio REST calls without TWILIO_ACCOUNT_SID", () => {
  it("a call's REST requests use the AccountSid of its signed webhook", async () => {
    const fake = twilioFake();
    const sid = callSid();
    const stub = testEnv.CALL_SESSION.get(testEnv.CALL_SESSION.idFromName(sid));
    const { TWILIO_ACCOUNT_SID: _, ...withoutAccount } = testEnv;
    const env = { ...withoutAccount, TWILIO_API_BASE_URL: fake.url };
    const phone = "+18668134984" as E164;

    await runInDurableObject(stub, async (instance: CallSession) => {
      // This object runs with the settings of a deployment that has no TWILIO_ACCOUNT_SID.
      Object.assign(instance, { env });
      expect(settingsOf(env).TWILIO_ACCOUNT_SID).toBeUndefined();
      const config = { ...defaultCallConfig(settingsOf(env), phone), max_call_duration: 60 };
      await instance.start({
        callSid: sid,
        accountSid: ACCOUNT_SID,
        from: "+14155550100",
        to: phone,
        config,
        configSource: "default",
        mode: "stream",
        publicBaseUrl: testEnv.PUBLIC_BASE_URL,
        answeredAt: Date.now(),
      });
      // Time passes: the recording is due, and so is max_call_duration's hang-up.
      const state = (instance as unknown as { state: { recording: { nextAt: number }; deadlineAt: number } })
        .state;
      state.recording.nextAt = Date.now() - 1;
      state.deadlineAt = Date.now() - 1;
      await instance.alarm();
      await instance.end({ status: "completed" });
    });

    const paths = (await fake.apiRequests()).map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        `POST /2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${sid}/Recordings.json`,
        `POST /2010-04-01/Accounts/${ACCOUNT_SID}/Calls/${sid}.json`,
      ]),
    );
    expect(paths.filter((p) => p.includes("/Accounts//"))).toEqual([]);
  });

  it("never sends a request for an empty account, and says why", async () => {
    const fake = twilioFake();
    const rest = new TwilioRest({ baseUrl: fake.url, accountSid: "", authToken: testEnv.TWILIO_AUTH_TOKEN });
    const err = await rest.updateCall(callSid(), { status: "completed" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TwilioError);
    expect(err).toMatchObject({
      kind: "misconfigured",
      message: expect.stringContaining("TWILIO_ACCOUNT_SID"),
    });
    expect(await fake.apiRequests()).toEqual([]);
  });

  it("the fake answers /Accounts//... with Twilio's 404, as the real API has no such resource", async () => {
    const fake = twilioFake();
    const res = await fetch(`${fake.url}/2010-04-01/Accounts//Calls/${callSid()}.json`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`:${testEnv.TWILIO_AUTH_TOKEN}`)}` },
      body: "Status=completed",
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 20404, status: 404 });
  });
});
