import { describe, expect, it } from "vitest";
import { MemoryCache } from "../../src/config/cache-policy.ts";
import type { E164 } from "../../src/config/phone-number.ts";
import { ConfigResolver } from "../../src/config/resolver.ts";
import { parseSettings } from "../../src/env.ts";
import { DataApiStore } from "../../src/stores/data-api.ts";
import { fakeControl } from "../fakes/client.ts";
import { uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { sampleSettings } from "./store-conformance.ts";

/**
 * The resolver against real Workers KV and a Data API store behind the fake gateway, whose
 * request log shows when the store was (not) asked. A movable clock stands in for waiting.
 */
function setup(overrides: Record<string, string> = {}) {
  const fake = fakeControl(testEnv.FAKE_DATA_API_URL);
  const settings = parseSettings({
    ...testEnv,
    CONFIG_STORE: "data-api",
    DATA_API_URL: fake.url,
    DATA_API_KEY: "data-api-test-key",
    CONFIG_STORE_TIMEOUT_MS: "300",
    DEFAULT_GREETING: "Thanks for calling the default line.",
    ...overrides,
  });
  const store = new DataApiStore({
    url: fake.url,
    apiKey: "data-api-test-key",
    dataSource: settings.DATA_API_DATA_SOURCE,
    database: settings.MONGODB_DB_NAME,
    timeoutMs: 5_000,
  });
  const clock = { now: 1_000_000 };
  /** A resolver with its own memory layer: a new one is another isolate sharing the same KV. */
  const isolate = () =>
    new ConfigResolver({
      store,
      kv: testEnv.CONFIG_CACHE,
      settings,
      memory: new MemoryCache(),
      now: () => clock.now,
    });
  const storeReads = async () =>
    (await fake.requests()).filter((r) => r.path.endsWith("/action/findOne")).length;
  return { fake, store, clock, isolate, storeReads, phone: uniquePhone() as E164 };
}

describe("config resolver", () => {
  it("reads the store once, then serves memory, and another isolate gets it from KV", async () => {
    const { store, isolate, storeReads, phone } = setup();
    await store.put(phone, sampleSettings({ greeting: "Sales line" }), { now: new Date() });
    const before = await storeReads();
    const a = isolate();
    const first = await a.resolve(phone);
    expect(first.source).toBe("store");
    expect(first.config).toMatchObject({ greeting: "Sales line", uses_defaults: false, version: 1 });
    expect((await a.resolve(phone)).source).toBe("memory");
    const b = await isolate().resolve(phone);
    expect(b.source).toBe("kv");
    expect(b.config.greeting).toBe("Sales line");
    expect(await storeReads()).toBe(before + 1);
  });

  it("expires memory after CONFIG_MEMORY_TTL_SECONDS and KV entries after CONFIG_CACHE_TTL_SECONDS", async () => {
    const { store, clock, isolate, storeReads, phone } = setup({
      CONFIG_MEMORY_TTL_SECONDS: "5",
      CONFIG_CACHE_TTL_SECONDS: "120",
    });
    await store.put(phone, sampleSettings(), { now: new Date() });
    const resolver = isolate();
    expect((await resolver.resolve(phone)).source).toBe("store");
    clock.now += 4_000;
    expect((await resolver.resolve(phone)).source).toBe("memory");
    clock.now += 2_000;
    expect((await resolver.resolve(phone)).source).toBe("kv");
    const reads = await storeReads();
    clock.now += 121_000;
    expect((await resolver.resolve(phone)).source).toBe("store");
    expect(await storeReads()).toBe(reads + 1);
  });

  it("gives unknown numbers the defaults from settings, and caches the miss", async () => {
    const { isolate, storeReads, phone } = setup();
    const resolver = isolate();
    const first = await resolver.resolve(phone);
    expect(first.config).toMatchObject({
      uses_defaults: true,
      phone_number: phone,
      greeting: "Thanks for calling the default line.",
      display_name: "Default Configuration",
    });
    const reads = await storeReads();
    expect((await resolver.resolve(phone)).config.uses_defaults).toBe(true);
    expect((await isolate().resolve(phone)).source).toBe("kv");
    expect(await storeReads()).toBe(reads);
  });

  it("gives an inactive number the defaults", async () => {
    const { store, isolate, phone } = setup();
    await store.put(phone, sampleSettings({ is_active: false, greeting: "Closed line" }), {
      now: new Date(),
    });
    const resolved = await isolate().resolve(phone);
    expect(resolved.config.uses_defaults).toBe(true);
    expect(resolved.config.greeting).toBe("Thanks for calling the default line.");
  });

  it("makes an admin write visible to the next call: write-through to KV, not just a delete", async () => {
    const { store, isolate, storeReads, phone } = setup();
    await store.put(phone, sampleSettings({ greeting: "Hello" }), { now: new Date() });
    const here = isolate();
    expect((await here.resolve(phone)).config.greeting).toBe("Hello");
    const { config } = await store.put(phone, sampleSettings({ greeting: "Hi there" }), { now: new Date() });
    await here.publish(phone, config);
    const reads = await storeReads();
    expect((await here.resolve(phone)).config).toMatchObject({ greeting: "Hi there", version: 2 });
    const elsewhere = await isolate().resolve(phone);
    expect(elsewhere).toMatchObject({ source: "kv", config: { greeting: "Hi there" } });
    expect(await storeReads()).toBe(reads);
    await here.publish(phone, null);
    expect((await isolate().resolve(phone)).config.uses_defaults).toBe(true);
  });

  it("serves the last good config when the store fails, even after the cache expired", async () => {
    const { fake, store, clock, isolate, phone } = setup();
    await store.put(phone, sampleSettings({ greeting: "Known good" }), { now: new Date() });
    await isolate().resolve(phone);
    clock.now += 10 * 60_000;
    await fake.behave({ status: 500 });
    const resolved = await isolate().resolve(phone);
    expect(resolved.source).toBe("stale");
    expect(resolved.config.greeting).toBe("Known good");
  });

  it("falls back to defaults when the store fails and nothing was ever seen", async () => {
    const { fake, isolate, phone } = setup();
    await fake.behave({ status: 503 });
    const resolved = await isolate().resolve(phone);
    expect(resolved).toMatchObject({ source: "default", config: { uses_defaults: true } });
  });

  it("does not wait on a slow store beyond CONFIG_STORE_TIMEOUT_MS", async () => {
    const { fake, store, clock, isolate, phone } = setup({ CONFIG_STORE_TIMEOUT_MS: "100" });
    await store.put(phone, sampleSettings({ greeting: "Cached before the slowdown" }), { now: new Date() });
    await isolate().resolve(phone);
    clock.now += 10 * 60_000;
    await fake.behave({ delayMs: 3_000 });
    const resolved = await isolate().resolve(phone);
    expect(resolved).toMatchObject({ source: "stale", config: { greeting: "Cached before the slowdown" } });
  });
});
