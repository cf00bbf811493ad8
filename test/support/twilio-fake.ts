import { fakeControl } from "../fakes/client.ts";
import type { RecordedRequest } from "../fakes/types.ts";
import { testEnv } from "./env.ts";

/**
 * The tests' handle on the fake Twilio (test/fakes/twilio.ts) in a namespace of their own:
 * `url` is the base URL to give TwilioRest, plus the fake's controls for what real Twilio
 * does on its own (a caller hanging up, a recording that is not ready yet).
 */
export function twilioFake(serverUrl: string = testEnv.FAKE_TWILIO_URL) {
  const control = fakeControl(serverUrl);
  const post = async (path: string) => {
    const response = await fetch(`${control.url}${path}`, { method: "POST" });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`twilio fake control ${path} answered ${response.status}`);
  };
  return {
    ...control,
    /** The caller hangs up: later changes to this call get Twilio's 21220. */
    endCall: (callSid: string) => post(`/__twilio/calls/${encodeURIComponent(callSid)}/end`),
    /** The next `times` downloads of this recording get 404, as when Twilio has not finished it. */
    recordingNotReady: (recordingSid: string, times: number) =>
      post(`/__twilio/recordings/${encodeURIComponent(recordingSid)}/not-ready?times=${times}`),
    /** This recording holds only `ms` of audio (Twilio then reports RecordingDuration 0). */
    recordingDuration: (recordingSid: string, ms: number) =>
      post(`/__twilio/recordings/${encodeURIComponent(recordingSid)}/duration?ms=${ms}`),
    /** Requests to Twilio's API (the controls above are left out). */
    async apiRequests(): Promise<RecordedRequest[]> {
      return (await control.requests()).filter((r) => r.path.startsWith("/2010-04-01/"));
    },
  };
}
