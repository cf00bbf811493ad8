import { beforeEach, describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import { type PhoneSettings, SETTING_DEFAULTS, SETTINGS_KEYS } from "../../src/config/schema.ts";
import { type ConfigStore, StoreError } from "../../src/stores/store.ts";
import { describeQueryConformance } from "./store-query-conformance.ts";

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

/** Options a backend's factory must honour. */
export interface StoreOptions {
  /** CONFIG_HISTORY_LIMIT for this store (default 100) */
  historyLimit?: number;
}

export function describeStoreConformance(
  name: string,
  makeStore: (options?: StoreOptions) => Promise<ConfigStore> | ConfigStore,
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

    it("writes nothing when nothing changes: same settings or an inactive number deactivated again", async () => {
      const first = await store.put(A, UNUSUAL, { now: T1 });
      const again = await store.put(A, { ...UNUSUAL }, { now: T2, expectedVersion: 1 });
      expect(again).toStrictEqual({ config: first.config, created: false });
      expect((await store.put(A, UNUSUAL, { now: T2 })).config).toStrictEqual(first.config);
      const off = await store.deactivate(A, T2);
      expect(off?.version).toBe(2);
      expect(await store.deactivate(A, T3)).toStrictEqual(off);
      expect(await store.get(A)).toStrictEqual(off);
      const history = await store.revisions(A, { limit: 100 });
      expect(history.versions.map((v) => [v.version, v.changed_fields])).toEqual([
        [2, ["is_active"]],
        [1, expect.arrayContaining(["greeting"])],
      ]);
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

    describe("revisions", () => {
      const ALICE = { actor: "alice", reason: "new spring greeting" };
      // A first version changes every setting it has, listed in the schema's order.
      const ALL_FIELDS = SETTINGS_KEYS.filter((k) => k in sampleSettings());

      it("stores one revision per write, newest first, with the whole document and what changed", async () => {
        await store.put(A, sampleSettings(), { now: T1, change: { actor: "ops", template: "support" } });
        await store.put(A, sampleSettings({ greeting: "Spring is here!", temperature: 0.3 }), {
          now: T2,
          expectedVersion: 1,
          change: ALICE,
        });
        await store.deactivate(A, T3, { actor: "bob" });
        const current = await store.put(
          A,
          sampleSettings({ greeting: "Spring is here!", temperature: 0.3 }),
          {
            now: T3,
          },
        );
        expect(current.config.version).toBe(4);

        const page = await store.revisions(A, { limit: 10 });
        expect(page.total).toBe(4);
        expect(page.versions).toStrictEqual([
          {
            version: 4,
            written_at: T3.toISOString(),
            actor: "system",
            reason: null,
            changed_fields: ["is_active"],
            is_active: true,
          },
          {
            version: 3,
            written_at: T3.toISOString(),
            actor: "bob",
            reason: null,
            changed_fields: ["is_active"],
            is_active: false,
          },
          {
            version: 2,
            written_at: T2.toISOString(),
            actor: "alice",
            reason: "new spring greeting",
            changed_fields: ["temperature", "greeting"],
            is_active: true,
          },
          {
            version: 1,
            written_at: T1.toISOString(),
            actor: "ops",
            reason: null,
            changed_fields: ALL_FIELDS,
            is_active: true,
          },
        ]);

        const first = await store.revision(A, 1);
        expect(first).toStrictEqual({
          phone_number: A,
          version: 1,
          config: {
            phone_number: A,
            ...sampleSettings(),
            created_at: T1.toISOString(),
            updated_at: T1.toISOString(),
            version: 1,
          },
          changed_fields: ALL_FIELDS,
          written_at: T1.toISOString(),
          actor: "ops",
          reason: null,
          template: "support",
        });
        expect((await store.revision(A, 4))?.config).toStrictEqual(await store.get(A));
        expect(await store.revision(A, 5)).toBeNull();
        expect(await store.revision(UNKNOWN, 1)).toBeNull();
      });

      it("pages with limit and before", async () => {
        for (let i = 0; i < 5; i++) await store.put(A, sampleSettings({ max_tokens: 100 + i }), { now: T1 });
        const first = await store.revisions(A, { limit: 2 });
        expect(first.total).toBe(5);
        expect(first.versions.map((v) => v.version)).toEqual([5, 4]);
        const next = await store.revisions(A, { limit: 2, before: 4 });
        expect(next.versions.map((v) => v.version)).toEqual([3, 2]);
        expect((await store.revisions(A, { limit: 2, before: 2 })).versions.map((v) => v.version)).toEqual([
          1,
        ]);
        expect(await store.revisions(UNKNOWN, { limit: 10 })).toStrictEqual({ total: 0, versions: [] });
      });

      it("keeps only the newest historyLimit revisions", async () => {
        const limited = await makeStore({ historyLimit: 3 });
        for (let i = 0; i < 6; i++)
          await limited.put(A, sampleSettings({ max_tokens: 100 + i }), { now: T1 });
        const page = await limited.revisions(A, { limit: 100 });
        expect(page.total).toBe(3);
        expect(page.versions.map((v) => v.version)).toEqual([6, 5, 4]);
        expect(await limited.revision(A, 3)).toBeNull();
        expect((await limited.revision(A, 4))?.config.max_tokens).toBe(103);
      });

      it("a hard delete removes the history too; a new document starts a new one", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        await store.put(A, sampleSettings({ greeting: "Second." }), { now: T2 });
        await store.put(B, sampleSettings(), { now: T1 });
        expect(await store.remove(A)).toBe(true);
        expect(await store.revisions(A, { limit: 10 })).toStrictEqual({ total: 0, versions: [] });
        expect(await store.revision(A, 1)).toBeNull();
        await store.put(A, sampleSettings({ greeting: "Again." }), { now: T3 });
        const page = await store.revisions(A, { limit: 10 });
        expect(page.versions.map((v) => v.version)).toEqual([1]);
        expect((await store.revision(A, 1))?.config.greeting).toBe("Again.");
        expect((await store.revisions(B, { limit: 10 })).total).toBe(1);
      });

      it("a conflicting write leaves no revision behind", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        await store.put(A, sampleSettings({ greeting: "Two." }), { now: T2 });
        await rejection(
          store.put(A, sampleSettings({ greeting: "Stale." }), { now: T3, expectedVersion: 1 }),
        );
        await rejection(store.put(A, sampleSettings(), { now: T3, expectedVersion: 0 }));
        const page = await store.revisions(A, { limit: 10 });
        expect(page.versions.map((v) => v.version)).toEqual([2, 1]);
      });

      it("20 concurrent writes to one number give versions 2..21, each with exactly one revision", async () => {
        await store.put(A, sampleSettings(), { now: T1 });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.put(A, sampleSettings({ max_tokens: 1000 + i }), { now: T2, change: { actor: `w${i}` } }),
          ),
        );
        expect(results.map((r) => r.config.version).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 20 }, (_, i) => i + 2),
        );
        const page = await store.revisions(A, { limit: 100 });
        expect(page.total).toBe(21);
        expect(page.versions.map((v) => v.version)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
        // Each revision holds what the writer that got its version wrote.
        for (const result of results) {
          const revision = await store.revision(A, result.config.version);
          expect(revision?.config).toStrictEqual(result.config);
        }
        expect((await store.get(A))?.version).toBe(21);
      });
    });

    describeQueryConformance(() => makeStore());

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
