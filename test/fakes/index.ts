import { startDataApiFake } from "./data-api.ts";
import { startOpenAIFake } from "./openai.ts";
import { startOwnerFake } from "./owner.ts";
import type { FakeServer } from "./server.ts";
import { startTwilioFake } from "./twilio.ts";

/** Every fake server the test run starts; the key names its URL binding (FAKE_<KEY>_URL). */
export const FAKES: Record<string, () => Promise<FakeServer>> = {
  data_api: startDataApiFake,
  openai: startOpenAIFake,
  twilio: startTwilioFake,
  owner: startOwnerFake,
};
