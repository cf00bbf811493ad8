import { describe, expect, it } from "vitest";
import { CreateConfigBody, SettingsSchema } from "../../../src/config/schema.ts";

const base = {
  phone_number: "+18005550105",
  display_name: "Line",
  system_prompt: "Prompt.",
  greeting: "Hi.",
};

function problems(body: Record<string, unknown>) {
  const result = CreateConfigBody.safeParse({ ...base, ...body });
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
}

describe("routing fields' validation", () => {
  it("accepts a full routing setup and keeps it", () => {
    const routing = {
      variants: [
        { name: "a", weight: 70, settings: {} },
        { name: "b", weight: 30, settings: { tts_model: "gpt-4o-mini-tts", tts_voice: "marin" } },
      ],
      schedule: {
        timezone: "Europe/London",
        hours: [{ days: ["mon", "fri"], open: "09:00", close: "17:30" }],
        closed_dates: ["2026-12-25"],
        after_hours: { action: "forward", to: "+442071838750" },
      },
      caller_rules: [
        { name: "uk", match: { countries: ["GB"] }, action: "answer", settings: { temperature: 0.2 } },
      ],
    };
    expect(problems(routing)).toEqual([]);
    expect(CreateConfigBody.parse({ ...base, ...routing })).toMatchObject(routing);
  });

  it("names the variant whose voice its merged model cannot speak", () => {
    const found = problems({
      tts_model: "tts-1",
      variants: [
        { name: "control", weight: 50, settings: {} },
        { name: "warm", weight: 50, settings: { tts_voice: "marin" } },
      ],
    });
    expect(found).toEqual([
      {
        path: "variants.1.settings.tts_voice",
        message: expect.stringMatching(/^variant "warm": voice "marin" is not available for tts-1/),
      },
    ]);
  });

  it("checks combinations: a rule's model with a variant's voice", () => {
    const found = problems({
      tts_model: "gpt-4o-mini-tts",
      tts_voice: "cedar",
      variants: [
        { name: "a", weight: 50, settings: { tts_voice: "ballad" } },
        { name: "b", weight: 50, settings: {} },
      ],
      caller_rules: [
        { name: "cheap", match: { prefixes: ["+1"] }, action: "answer", settings: { tts_model: "tts-1" } },
      ],
    });
    // The rule alone breaks the base voice cedar; the variant's ballad breaks with the rule too.
    expect(found.map((f) => f.path)).toEqual([
      "caller_rules.0.settings.tts_voice",
      "variants.0.settings.tts_voice",
    ]);
    expect(found[1]?.message).toMatch(/^variant "a" with caller rule "cheap": voice "ballad"/);
  });

  it.each([
    [
      {
        variants: [
          { name: "a", weight: 60, settings: {} },
          { name: "b", weight: 30, settings: {} },
        ],
      },
      "variants",
      /sum to 100 \(they sum to 90\)/,
    ],
    [
      {
        variants: Array.from({ length: 6 }, (_, i) => ({
          name: `v${i}`,
          weight: i === 0 ? 100 : 0,
          settings: {},
        })),
      },
      "variants",
      /at most 5/i,
    ],
    [
      { variants: [{ name: "a", weight: 100, settings: { is_active: false } }] },
      "variants.0.settings",
      /is_active/,
    ],
    [
      {
        variants: [
          { name: "a", weight: 50, settings: {} },
          { name: "a", weight: 50, settings: {} },
        ],
      },
      "variants.1.name",
      /used twice/,
    ],
    [
      {
        schedule: {
          timezone: "Mars/Olympus",
          hours: [{ days: ["mon"], open: "09:00", close: "17:00" }],
          after_hours: { settings: {} },
        },
      },
      "schedule.timezone",
      /IANA/,
    ],
    [
      {
        schedule: {
          timezone: "UTC",
          hours: [{ days: ["mon"], open: "9am", close: "17:00" }],
          after_hours: { settings: {} },
        },
      },
      "schedule.hours.0.open",
      /HH:MM/,
    ],
    [
      {
        schedule: {
          timezone: "UTC",
          hours: [{ days: ["mon"], open: "09:00", close: "17:00" }],
          closed_dates: ["2026-02-30"],
          after_hours: { settings: {} },
        },
      },
      "schedule.closed_dates.0",
      /calendar date/,
    ],
    [
      {
        schedule: {
          timezone: "UTC",
          hours: [{ days: ["mon"], open: "09:00", close: "17:00" }],
          after_hours: { action: "forward", to: "12345" },
        },
      },
      "schedule.after_hours",
      /./,
    ],
    [{ caller_rules: [{ name: "x", match: {}, action: "reject" }] }, "caller_rules.0.match", /at least one/],
    [
      { caller_rules: [{ name: "x", match: { countries: ["XX"] }, action: "reject" }] },
      "caller_rules.0.match.countries.0",
      /country/,
    ],
    [
      { caller_rules: [{ name: "x", match: { anonymous: true }, action: "forward" }] },
      "caller_rules.0.to",
      /required when action is forward/,
    ],
    [
      {
        caller_rules: [
          { name: "x", match: { anonymous: true }, action: "reject", settings: { greeting: "x" } },
        ],
      },
      "caller_rules.0.settings",
      /only allowed when action is answer/,
    ],
    [
      {
        caller_rules: Array.from({ length: 21 }, (_, i) => ({
          name: `r${i}`,
          match: { anonymous: true },
          action: "reject",
        })),
      },
      "caller_rules",
      /at most 20/i,
    ],
  ])("rejects %j at %s", (body, path, message) => {
    const found = problems(body);
    expect(found.length).toBeGreaterThan(0);
    expect(found.some((f) => (f.path.startsWith(path) && message.test(f.message)) || f.path === path)).toBe(
      true,
    );
  });

  it("validates the merge of a PUT the same way (schedule: null removes it)", () => {
    const stored = CreateConfigBody.parse({ ...base, tts_model: "gpt-4o-mini-tts", tts_voice: "cedar" });
    const { phone_number: _p, ...settings } = stored;
    const ok = SettingsSchema.safeParse({
      ...settings,
      variants: [{ name: "x", weight: 100, settings: {} }],
      schedule: null,
    });
    expect(ok.success).toBe(true);
    const bad = SettingsSchema.safeParse({
      ...settings,
      tts_model: "tts-1",
      tts_voice: "alloy",
      variants: [{ name: "x", weight: 100, settings: { tts_voice: "cedar" } }],
    });
    expect(bad.error?.issues.map((i) => i.path.join("."))).toEqual(["variants.0.settings.tts_voice"]);
  });
});
