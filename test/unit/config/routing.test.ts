import { describe, expect, it } from "vitest";
import { matchCallerRule } from "../../../src/config/caller-rules.ts";
import type { CallConfig } from "../../../src/config/defaults.ts";
import { callBucket, routeCall } from "../../../src/config/routing.ts";
import { isOpen, localTime } from "../../../src/config/schedule.ts";
import { CreateConfigBody } from "../../../src/config/schema.ts";

const randomSid = () => `CA${crypto.randomUUID().replace(/-/g, "")}`;

/** A stored config as the resolver hands it to a call, built through the create schema. */
function config(overrides: Record<string, unknown> = {}): CallConfig {
  const parsed = CreateConfigBody.parse({
    phone_number: "+18005550105",
    display_name: "Line",
    system_prompt: "Base prompt.",
    greeting: "Base greeting.",
    ...overrides,
  });
  return {
    ...parsed,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    version: 1,
    uses_defaults: false,
  };
}

const halfAndHalf = {
  variants: [
    { name: "a", weight: 50, settings: { greeting: "Hello from A." } },
    { name: "b", weight: 50, settings: { greeting: "Hello from B.", tts_voice: "nova" } },
  ],
};

describe("variants", () => {
  it("splits 400 distinct CallSids 50/50 within binomial bounds, and a retried CallSid keeps its variant", () => {
    const cfg = config(halfAndHalf);
    const at = new Date();
    const sids = Array.from({ length: 400 }, randomSid);
    const picks = sids.map((callSid) => routeCall(cfg, { caller: "+14155550100", callSid, at }));
    const a = picks.filter((p) => p.variant === "a").length;
    // n=400, p=0.5: mean 200, sd 10; ±4 sd fails a fair split about once in 16,000 runs.
    expect(a).toBeGreaterThanOrEqual(160);
    expect(a).toBeLessThanOrEqual(240);
    expect(picks.filter((p) => p.variant === "b").length).toBe(400 - a);
    for (const [i, callSid] of sids.entries()) {
      const again = routeCall(cfg, { caller: "+442071838750", callSid, at: new Date(at.getTime() + 60_000) });
      expect(again.variant).toBe(picks[i]?.variant);
    }
    const b = picks.find((p) => p.variant === "b");
    expect(b?.effective).toMatchObject({
      greeting: "Hello from B.",
      tts_voice: "nova",
      system_prompt: "Base prompt.",
    });
    expect(b?.effective).not.toHaveProperty("variants");
  });

  it("never picks a variant of weight 0 and spreads buckets over 0-99", () => {
    const cfg = config({
      variants: [
        { name: "paused", weight: 0, settings: { greeting: "Never." } },
        { name: "live", weight: 100, settings: {} },
      ],
    });
    const buckets = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const callSid = randomSid();
      buckets.add(callBucket(callSid));
      expect(routeCall(cfg, { caller: "+14155550100", callSid, at: new Date() }).variant).toBe("live");
    }
    expect(buckets.size).toBe(100);
  });
});

describe("schedule around daylight-saving changes", () => {
  const weekdays = { days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" };

  it.each([
    // New York springs forward on Sunday 2026-03-08: 09:30 local is 14:30 UTC before, 13:30 UTC after.
    [
      "America/New_York",
      "2026-03-06T14:30:00Z",
      "2026-03-06T13:30:00Z",
      "2026-03-09T13:30:00Z",
      "2026-03-09T12:30:00Z",
    ],
    // London springs forward on Sunday 2026-03-29: 09:30 local is 09:30 UTC before, 08:30 UTC after.
    [
      "Europe/London",
      "2026-03-27T09:30:00Z",
      "2026-03-27T08:30:00Z",
      "2026-03-30T08:30:00Z",
      "2026-03-30T07:30:00Z",
    ],
    // And both fall back: New York on 2026-11-01, London on 2026-10-25.
    [
      "America/New_York",
      "2026-10-30T13:30:00Z",
      "2026-10-30T12:30:00Z",
      "2026-11-02T14:30:00Z",
      "2026-11-02T13:30:00Z",
    ],
    [
      "Europe/London",
      "2026-10-23T08:30:00Z",
      "2026-10-23T07:30:00Z",
      "2026-10-26T09:30:00Z",
      "2026-10-26T08:30:00Z",
    ],
  ])(
    "%s: 09:30 local is open and 08:30 local closed on both sides of the change",
    (timezone, openBefore, closedBefore, openAfter, closedAfter) => {
      const schedule = { timezone, hours: [weekdays], closed_dates: [] };
      expect(isOpen(schedule as never, new Date(openBefore))).toBe(true);
      expect(isOpen(schedule as never, new Date(closedBefore))).toBe(false);
      expect(isOpen(schedule as never, new Date(openAfter))).toBe(true);
      expect(isOpen(schedule as never, new Date(closedAfter))).toBe(false);
    },
  );

  it("counts both 01:30s of New York's repeated hour, and none in the skipped one", () => {
    const schedule = {
      timezone: "America/New_York",
      hours: [{ days: ["sun"], open: "01:00", close: "03:00" }],
      closed_dates: [],
    } as never;
    // 2026-11-01: 01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC).
    expect(localTime(new Date("2026-11-01T05:30:00Z"), "America/New_York").minutes).toBe(90);
    expect(localTime(new Date("2026-11-01T06:30:00Z"), "America/New_York").minutes).toBe(90);
    expect(isOpen(schedule, new Date("2026-11-01T05:30:00Z"))).toBe(true);
    expect(isOpen(schedule, new Date("2026-11-01T06:30:00Z"))).toBe(true);
    // 2026-03-08: 01:59 EST (06:59 UTC) is followed by 03:00 EDT (07:00 UTC).
    expect(isOpen(schedule, new Date("2026-03-08T06:59:00Z"))).toBe(true);
    expect(isOpen(schedule, new Date("2026-03-08T07:00:00Z"))).toBe(false);
  });

  it("runs a window past midnight and closes a closed date all day", () => {
    const schedule = {
      timezone: "Asia/Tokyo",
      hours: [{ days: ["fri"], open: "22:00", close: "02:00" }],
      closed_dates: ["2026-12-26"],
    } as never;
    expect(isOpen(schedule, new Date("2026-12-04T13:30:00Z"))).toBe(true); // Fri 22:30 JST
    expect(isOpen(schedule, new Date("2026-12-04T16:30:00Z"))).toBe(true); // Sat 01:30 JST
    expect(isOpen(schedule, new Date("2026-12-04T17:30:00Z"))).toBe(false); // Sat 02:30 JST
    expect(isOpen(schedule, new Date("2026-12-25T13:30:00Z"))).toBe(true); // Fri 25th 22:30
    expect(isOpen(schedule, new Date("2026-12-25T16:30:00Z"))).toBe(false); // Sat 26th 01:30, closed date
  });

  it("after hours applies the after-hours settings, or forwards", () => {
    const hours = [{ days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" }];
    const night = new Date("2026-03-10T03:00:00Z"); // 23:00 Monday in New York
    const day = new Date("2026-03-10T15:00:00Z"); // 11:00 Tuesday
    const settingsCfg = config({
      schedule: {
        timezone: "America/New_York",
        hours,
        after_hours: { settings: { greeting: "We are closed." } },
      },
    });
    const call = { caller: "+14155550100", callSid: randomSid() };
    expect(routeCall(settingsCfg, { ...call, at: night })).toMatchObject({
      after_hours: true,
      action: { type: "answer" },
      effective: { greeting: "We are closed." },
    });
    expect(routeCall(settingsCfg, { ...call, at: day })).toMatchObject({
      after_hours: false,
      effective: { greeting: "Base greeting." },
    });
    const forwardCfg = config({
      schedule: {
        timezone: "America/New_York",
        hours,
        after_hours: { action: "forward", to: "+14155550199" },
      },
      ...halfAndHalf,
    });
    expect(routeCall(forwardCfg, { ...call, at: night })).toMatchObject({
      after_hours: true,
      variant: null,
      action: { type: "forward", to: "+14155550199" },
    });
  });
});

describe("caller rules", () => {
  const rules = [
    { name: "blocked", match: { numbers: ["+14155550666"] }, action: "reject" },
    {
      name: "withheld",
      match: { anonymous: true },
      action: "answer",
      settings: { greeting: "Who is this?" },
    },
    { name: "london", match: { prefixes: ["+4420"] }, action: "forward", to: "+442071838751" },
    {
      name: "uk",
      match: { countries: ["GB", "IE"] },
      action: "answer",
      settings: { greeting: "Hello, UK." },
    },
  ];
  const cfg = config({ caller_rules: rules, ...halfAndHalf });
  const at = new Date();
  const route = (caller: string) => routeCall(cfg, { caller, callSid: randomSid(), at });

  it("matches by country through libphonenumber, and by prefix, first match winning", () => {
    expect(route("+447400123456")).toMatchObject({ rule: "uk", action: { type: "answer" } });
    expect(route("+447400123456").effective.greeting).toMatch(/^Hello from [AB]\.$/);
    expect(route("+35312345678").rule).toBe("uk");
    expect(route("+442071838750")).toMatchObject({
      rule: "london",
      variant: null,
      action: { type: "forward", to: "+442071838751" },
    });
    expect(route("+14155550100")).toMatchObject({ rule: null, action: { type: "answer" } });
    // A variant's greeting beats the rule's: variants come last.
    const noVariants = config({ caller_rules: rules });
    expect(
      routeCall(noVariants, { caller: "+447400123456", callSid: randomSid(), at }).effective.greeting,
    ).toBe("Hello, UK.");
  });

  it("rejects a blocklisted number", () => {
    expect(route("+14155550666")).toMatchObject({
      rule: "blocked",
      action: { type: "reject" },
      variant: null,
    });
  });

  it.each(["anonymous", "Restricted", "+266696687", "", "unknown"])("treats From=%j as anonymous", (from) => {
    expect(matchCallerRule(rules as never, from)?.name).toBe("withheld");
    expect(route(from).rule).toBe("withheld");
  });
});
