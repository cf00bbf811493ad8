import type { FakeServer } from "./server.ts";

/** Every fake server the test run starts; the key names its URL binding (FAKE_<KEY>_URL). */
export const FAKES: Record<string, () => Promise<FakeServer>> = {};
