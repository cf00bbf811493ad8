import { beforeEach, describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import { type PhoneSettings, SETTING_DEFAULTS } from "../../src/config/schema.ts";
import { type ConfigStore, StoreError } from "../../src/stores/store.ts";

/**
 * The behaviour every ConfigStore backend must share; each backend's test file calls
 * describeStoreConformance with a factory that returns an isolated, empty store per test.
 */

/** Valid settings: the seed's defaults plus the three fields a create must give. */
export function sampleSettings(overrides: Partial<PhoneSettings> = {}): PhoneSettings {
  return {
    ...SETTING_DEFAULTS,
    display_name: "Main Support Line",
    system_prompt: "You are a helpful customer support agent. Provide concise, friendly responses.",
    greeting: "Welcome to customer support! How can I help you today?",
    ...overrides,
  };
}

/** Every setting away from its default, so a backend that drops or retypes one is caught. */
const UNUSUAL = sampleSettings({
  display_name: "Night Line",
  stt_model: "gpt-4o-transcribe",
  tts_model: "gpt-4o-mini-tts",
  tts_voice: "marin",
  inference_model: "gpt-4.1-mini",
  temperature: 1.35,
  max_tokens: 1234,
  system_prompt: "Speak slowly.\nUse short sentences.",
  greeting: "Good evening, you've reached the night line.",
  enable_interrupts: false,
  interrupt_timeout: 0.25,
  enable_recording: false,
  max_call_duration: 600,
  conversation_mode: "stream",
  end_of_speech_ms: 1200,
  is_active: true,
});

const A = "+14155550100" as E164;
const B = "+14155550111" as E164;
const C = "+442071838750" as E164;
const UNKNOWN = "+14155550199" as E164;

const T1 = new Date("2026-03-01T10:00:00.000Z");
const T2 = new Date("2026-03-02T11:30:00.000Z");
const T3 = new Date("2026-03-03T12:45:00.000Z");

/** The StoreError a store call rejects with (fails the test if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const err = await promise.then(
    () => {
      throw new Error("expected the call to reject with a StoreError");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  return err as StoreError;
}

export function describeStoreConformance(
  name: string,
  makeStore: () => Promise<ConfigStore> | ConfigStore,
): void {
  describe(`${name} store conformance`, () => {
    let store: ConfigStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it("returns null for a number it has never seen", async () => {
      expect(await store.get(UNKNOWN)).toBeNull();
    });

    it("creates a document with version 1 and every setting exactly as given", async () => {
      const { config, created } = await store.put(A, UNUSUAL, { now: T1 });
      const expected = {
        phone_number: A,
        ...UNUSUAL,
        created_at: T1.toISOString(),
        updated_at: T1.toISOString(),
        version: 1,
      };
      expect(created).toBe(true);
      expect(config).toStrictEqual(expected);
      expect(await store.get(A)).toStrictEqual(expected);
    });

    it("updates in place: version +1, created_at kept, updated_at moved", async () => {
      await store.put(A, sampleSettings(), { now: T1 });
      const changed = sampleSettings({ greeting: "Hi there!", temperature: 0.2, enable_recording: false });
      const { config, created } = await store.put(A, changed, { now: T2 });
      const expected = {
        phone_number: A,
        ...changed,
        created_at: T1.toISOString(),
        updated_at: T2.toISOString(),
        version: 2,
      };
      expect(created).toBe(false);
      expect(config).toStrictEqual(expected);
      expect(await store.get(A)).toStrictEqual(expected);
    });

    it("lists by phone number, inactive documents only when asked", async () => {
      await store.put(C, sampleSettings({ display_name: "London" }), { now: T1 });
      await store.put(B, sampleSettings({ display_name: "Paused", is_active: false }), { now: T1 });
      await store.put(A, sampleSettings({ display_name: "Main" }), { now: T1 });

      const active = await store.list({ includeInactive: false });
      expect(active.map((c) => c.phone_number)).toEqual([A, C]);
      expect(active[0]).toStrictEqual(await store.get(A));

      const all = await store.list({ includeInactive: true });
      expect(all.map((c) => [c.phone_number, c.is_active])).toEqual([
        [A, true],
        [B, false],
        [C, true],
      ]);
    });

    it("lists nothing when empty", async () => {
      expect(await store.list({ includeInactive: true })).toEqual([]);
    });

    it("deactivates: is_active false, version +1, other settings untouched", async () => {
      await store.put(A, UNUSUAL, { now: T1 });
      const expected = {
        phone_number: A,
        ...UNUSUAL,
        is_active: false,
        created_at: T1.toISOString(),
        updated_at: T2.toISOString(),
        version: 2,
      };
      expect(await store.deactivate(A, T2)).toStrictEqual(expected);
      expect(await store.get(A)).toStrictEqual(expected);
      expect(await store.list({ includeInactive: false })).toEqual([]);
    });

    it("deactivating an unknown number returns null and creates nothing", async () => {
      expect(await store.deactivate(UNKNOWN, T1)).toBeNull();
      expect(await store.get(UNKNOWN)).toBeNull();
    });

    it("reactivates through put", async () => {
      await store.put(A, sampleSettings(), { now: T1 });
      await store.deactivate(A, T2);
      const { config, created } = await store.put(A, sampleSettings({ is_active: true }), { now: T3 });
      expect(created).toBe(false);
      expect(config).toMatchObject({ is_active: true, version: 3, created_at: T1.toISOString() });
      expect((await store.list({ includeInactive: false })).map((c) => c.phone_number)).toEqual([A]);
    });

    it("removes a document for good, and says when there was nothing to remove", async () => {
      await store.put(A, sampleSettings(), { now: T1 });
      await store.put(B, sampleSettings(), { now: T1 });
      expect(await store.remove(A)).toBe(true);
      expect(await store.get(A)).toBeNull();
      expect(await store.remove(A)).toBe(false);
      expect((await store.list({ includeInactive: true })).map((c) => c.phone_number)).toEqual([B]);
    });

    it("starts again at version 1 after a remove", async () => {
      await store.put(A, sampleSettings(), { now: T1 });
      await store.put(A, sampleSettings(), { now: T2 });
      await store.remove(A);
      const { config, created } = await store.put(A, sampleSettings(), { now: T3 });
      expect(created).toBe(true);
      expect(config).toMatchObject({ version: 1, created_at: T3.toISOString() });
    });

    describe("expectedVersion", () => {
      it("writes when the stored version matches", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        const changed = sampleSettings({ max_tokens: 42 });
        const { config, created } = await store.put(A, changed, { now: T2, expectedVersion: 1 });
        expect(created).toBe(false);
        expect(config).toStrictEqual({
          phone_number: A,
          ...changed,
          created_at: T1.toISOString(),
          updated_at: T2.toISOString(),
          version: 2,
        });
      });

      it("rejects a stale version as a conflict and changes nothing", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        await store.put(A, sampleSettings({ display_name: "Second" }), { now: T2, expectedVersion: 1 });
        const before = await store.get(A);

        const err = await rejection(
          store.put(A, sampleSettings({ display_name: "Lost update" }), { now: T3, expectedVersion: 1 }),
        );
        expect(err.kind).toBe("conflict");
        expect(await store.get(A)).toStrictEqual(before);
        expect(before).toMatchObject({ display_name: "Second", version: 2 });
      });

      it("rejects a version for a number that does not exist, without creating it", async () => {
        const err = await rejection(store.put(A, sampleSettings(), { now: T1, expectedVersion: 3 }));
        expect(err.kind).toBe("conflict");
        expect(await store.get(A)).toBeNull();
      });

      it("creates with expectedVersion 0 when the number is new", async () => {
        const { config, created } = await store.put(A, UNUSUAL, { now: T1, expectedVersion: 0 });
        expect(created).toBe(true);
        expect(config).toStrictEqual({
          phone_number: A,
          ...UNUSUAL,
          created_at: T1.toISOString(),
          updated_at: T1.toISOString(),
          version: 1,
        });
      });

      it("rejects expectedVersion 0 on an existing number and changes nothing", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        const before = await store.get(A);
        const err = await rejection(
          store.put(A, sampleSettings({ display_name: "Duplicate" }), { now: T2, expectedVersion: 0 }),
        );
        expect(err.kind).toBe("conflict");
        expect(await store.get(A)).toStrictEqual(before);
      });
    });

    it("answers a ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("sets up idempotently and says what it did", async () => {
      const first = await store.setup();
      expect(first.length).toBeGreaterThan(0);
      for (const line of first) expect(line).toEqual(expect.any(String));
      expect((await store.setup()).length).toBeGreaterThan(0);
    });
  });
}
