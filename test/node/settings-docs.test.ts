import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseSettings, SETTING_NAMES, SettingsError } from "../../src/env.ts";

/** Settings the Worker reads are documented where operators look, and parsed strictly. */
describe("settings", () => {
  const example = readFileSync(".dev.vars.example", "utf8");

  it("lists every setting the Worker reads in .dev.vars.example, each with a comment above it", () => {
    const lines = example.split("\n");
    for (const name of SETTING_NAMES) {
      const index = lines.findIndex((line) => new RegExp(`^#? ?${name}=`).test(line));
      expect(index, `${name} is missing from .dev.vars.example`).toBeGreaterThan(0);
      let above = index - 1;
      while (above > 0 && /^# ?[A-Z_]+=/.test(lines[above] ?? "")) above--;
      expect(lines[above]?.startsWith("#"), `${name} has no comment`).toBe(true);
    }
  });

  it("parses the example as it stands (what `npm run dev` starts with)", () => {
    const vars = Object.fromEntries(
      example
        .split("\n")
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    expect(parseSettings(vars)).toMatchObject({ ENVIRONMENT: "development", CONFIG_STORE: "embedded" });
  });

  it("fails loudly with every problem at once", () => {
    let error: unknown;
    try {
      parseSettings({
        CONFIG_STORE: "mongodb",
        CONFIG_CACHE_TTL_SECONDS: "30",
        DEV_UNSIGNED_WEBHOOKS: "true",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const { problems } = error as SettingsError;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("MONGODB_URL is required when CONFIG_STORE=mongodb"),
        expect.stringContaining("CONFIG_CACHE_TTL_SECONDS"),
        expect.stringContaining("DEV_UNSIGNED_WEBHOOKS may only be true when ENVIRONMENT=development"),
      ]),
    );
  });

  it("applies the seed's defaults when nothing is set", () => {
    expect(parseSettings({})).toMatchObject({
      CONFIG_STORE: "embedded",
      MONGODB_DB_NAME: "voiceagent",
      DATA_API_DATA_SOURCE: "mongodb-atlas",
      CONFIG_CACHE_TTL_SECONDS: 300,
      DEFAULT_COUNTRY: "US",
      DEFAULT_STT_MODEL: "whisper-1",
      DEFAULT_TTS_MODEL: "tts-1",
      DEFAULT_INFERENCE_MODEL: "gpt-4o-mini",
    });
  });

  it("refuses an unknown DEFAULT_TTS_MODEL and a DEFAULT_TTS_VOICE its model cannot speak, naming the choices", () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseSettings(env);
      } catch (err) {
        return (err as SettingsError).problems;
      }
      return [];
    };
    const both = problems({ DEFAULT_TTS_MODEL: "tts-2", CONFIG_CACHE_TTL_SECONDS: "30" });
    expect(both).toHaveLength(2);
    expect(both).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DEFAULT_TTS_MODEL .*"tts-1".*"tts-1-hd".*"gpt-4o-mini-tts"/),
        expect.stringContaining("CONFIG_CACHE_TTL_SECONDS"),
      ]),
    );
    expect(problems({ DEFAULT_TTS_MODEL: "tts-1", DEFAULT_TTS_VOICE: "marin" })).toEqual([
      'DEFAULT_TTS_VOICE "marin" is not a voice of tts-1; choose one of: alloy, ash, coral, echo, fable, nova, onyx, sage, shimmer',
    ]);
    expect(parseSettings({ DEFAULT_TTS_MODEL: "gpt-4o-mini-tts", DEFAULT_TTS_VOICE: "marin" })).toMatchObject(
      {
        DEFAULT_TTS_VOICE: "marin",
      },
    );
  });
});
