import { beforeEach, describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import type { PhoneSettings } from "../../src/config/schema.ts";
import type { ConfigQuery } from "../../src/stores/config-query.ts";
import type { ConfigStore } from "../../src/stores/store.ts";
import { sampleSettings } from "./store-conformance.ts";

/**
 * ConfigStore.query, the filtered, sorted, paginated list with its total, as every backend
 * must answer it (part of describeStoreConformance): the embedded store in SQL, the MongoDB
 * stores as an aggregation their fakes run (test/fakes/mongo-query.ts).
 */

const n = (i: number) => `+1415555${String(i).padStart(4, "0")}` as E164;

/** Numbers 0..6: names, modes, active flags and write times chosen so each filter and sort differs. */
const SEEDED: { phone: E164; settings: Partial<PhoneSettings>; at: string }[] = [
  { phone: n(100), settings: { display_name: "Main Support Line" }, at: "2026-03-01T10:00:00.000Z" },
  {
    phone: n(111),
    settings: { display_name: "École Sales", conversation_mode: "turns" },
    at: "2026-03-05T10:00:00.000Z",
  },
  {
    phone: n(222),
    settings: { display_name: "Paused line", is_active: false },
    at: "2026-03-02T10:00:00.000Z",
  },
  {
    phone: n(333),
    settings: {
      display_name: "after.hours (night)",
      conversation_mode: "realtime",
      inference_model: "gpt-realtime",
      tts_voice: "marin",
    },
    at: "2026-03-04T10:00:00.000Z",
  },
  {
    phone: n(444),
    settings: { display_name: "Bookings", conversation_mode: "turns", is_active: false },
    at: "2026-03-03T10:00:00.000Z",
  },
  {
    phone: n(555),
    settings: { display_name: "bookings", conversation_mode: "turns" },
    at: "2026-03-06T10:00:00.000Z",
  },
  { phone: n(666), settings: { display_name: "afterxhours" }, at: "2026-03-07T10:00:00.000Z" },
];

export function describeQueryConformance(makeStore: () => Promise<ConfigStore> | ConfigStore): void {
  describe("query: filtered, sorted pages with a total", () => {
    let store: ConfigStore;
    const page = (query: Partial<ConfigQuery>) => store.query({ offset: 0, limit: 50, ...query });
    const phones = async (query: Partial<ConfigQuery>) =>
      (await page(query)).configs.map((c) => c.phone_number);

    beforeEach(async () => {
      store = await makeStore();
    });

    it("answers an empty page with total 0 when the store is empty", async () => {
      expect(await page({ search: "anything", active: true })).toEqual({ total: 0, configs: [] });
    });

    describe("over seven numbers", () => {
      beforeEach(async () => {
        // Written out of order: the order of a page is the store's, not the insertion's.
        for (const { phone, settings, at } of [...SEEDED].reverse()) {
          await store.put(phone, sampleSettings(settings), { now: new Date(at) });
        }
      });

      it("pages by phone number with the whole total on every page, whole documents in it", async () => {
        const first = await page({ limit: 3 });
        expect(first.total).toBe(7);
        expect(first.configs.map((c) => c.phone_number)).toEqual([n(100), n(111), n(222)]);
        expect(first.configs[1]).toStrictEqual(await store.get(n(111)));
        expect(await page({ offset: 3, limit: 3 })).toMatchObject({ total: 7 });
        expect(await phones({ offset: 3, limit: 3 })).toEqual([n(333), n(444), n(555)]);
        expect(await phones({ offset: 6, limit: 3 })).toEqual([n(666)]);
        expect(await page({ offset: 9, limit: 3 })).toEqual({ total: 7, configs: [] });
      });

      it("filters by active and by mode, the total counting the matches only", async () => {
        expect(await page({ active: false })).toMatchObject({ total: 2 });
        expect(await phones({ active: false })).toEqual([n(222), n(444)]);
        expect(await phones({ active: true })).toEqual([n(100), n(111), n(333), n(555), n(666)]);
        expect(await phones({ mode: "turns" })).toEqual([n(111), n(444), n(555)]);
        expect(await phones({ mode: "turns", active: true })).toEqual([n(111), n(555)]);
        expect(await page({ mode: "realtime", limit: 1 })).toMatchObject({ total: 1 });
      });

      it("searches names case-insensitively, accents included, and numbers by their digits", async () => {
        expect(await phones({ search: "BOOKINGS" })).toEqual([n(444), n(555)]);
        expect(await phones({ search: "école" })).toEqual([n(111)]);
        expect(await phones({ search: "  line " })).toEqual([n(100), n(222)]);
        // Digits anywhere in the number, whatever separates them in the search.
        expect(await phones({ search: "555-0333" })).toEqual([n(333)]);
        expect(await phones({ search: "0444" })).toEqual([n(444)]);
        expect(await phones({ search: "no such name" })).toEqual([]);
      });

      it("takes search text literally: regex and SQL characters match themselves", async () => {
        expect(await phones({ search: "after.hours" })).toEqual([n(333)]);
        expect(await phones({ search: "(night)" })).toEqual([n(333)]);
        expect(await phones({ search: "%" })).toEqual([]);
        expect(await phones({ search: "[" })).toEqual([]);
      });

      it("combines search, filters and paging", async () => {
        const result = await page({ search: "bookings", active: true, mode: "turns", limit: 1 });
        expect(result.total).toBe(1);
        expect(result.configs.map((c) => c.phone_number)).toEqual([n(555)]);
      });

      it("sorts by name (ties by number) or by last update, either way", async () => {
        // Binary order, as MongoDB and SQLite compare: capitals before lower case.
        expect(await phones({ sort: { field: "display_name", direction: "asc" }, limit: 4 })).toEqual([
          n(444),
          n(100),
          n(222),
          n(333),
        ]);
        expect(await phones({ sort: { field: "updated_at", direction: "desc" }, limit: 3 })).toEqual([
          n(666),
          n(555),
          n(111),
        ]);
        expect(await phones({ sort: { field: "phone_number", direction: "desc" }, limit: 2 })).toEqual([
          n(666),
          n(555),
        ]);
        const paged = [
          ...(await phones({ sort: { field: "updated_at", direction: "asc" }, limit: 4 })),
          ...(await phones({ sort: { field: "updated_at", direction: "asc" }, offset: 4, limit: 4 })),
        ];
        expect(paged).toEqual([n(100), n(222), n(444), n(333), n(111), n(555), n(666)]);
      });

      it("sees a write at once: a renamed or deactivated number moves between pages", async () => {
        const current = await store.get(n(666));
        await store.put(n(666), sampleSettings({ display_name: "Bookings overflow" }), {
          now: new Date("2026-03-08T10:00:00.000Z"),
          expectedVersion: current?.version ?? 0,
        });
        expect(await phones({ search: "bookings" })).toEqual([n(444), n(555), n(666)]);
        await store.deactivate(n(555), new Date("2026-03-09T10:00:00.000Z"));
        expect(await phones({ search: "bookings", active: true })).toEqual([n(666)]);
      });
    });

    it("refuses an offset or limit out of bounds with a RangeError", async () => {
      await expect(store.query({ offset: -1, limit: 10 })).rejects.toThrow(RangeError);
      await expect(store.query({ offset: 0, limit: 0 })).rejects.toThrow(/limit must be an integer from 1/);
      await expect(store.query({ offset: 0, limit: 100_000 })).rejects.toThrow(RangeError);
    });
  });
}
