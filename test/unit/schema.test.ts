import { describe, expect, it } from "vitest";
import {
  CreateConfigBody,
  SETTING_DEFAULTS,
  SettingsSchema,
  UpdateConfigBody,
} from "../../src/config/schema.ts";
import { canSpeak, TTS_VOICES } from "../../src/config/voices.ts";

const required = {
  phone_number: "+18668134984",
  display_name: "Line",
  system_prompt: "Be kind.",
  greeting: "Hi.",
};

describe("phone config schema", () => {
  it("fills the seed's defaults for everything but the four required fields", () => {
    const parsed = CreateConfigBody.parse(required);
    expect(parsed).toEqual({ ...required, ...SETTING_DEFAULTS });
    expect(SETTING_DEFAULTS).toMatchObject({
      stt_model: "whisper-1",
      tts_model: "tts-1",
      tts_voice: "alloy",
      inference_model: "gpt-4o-mini",
      temperature: 0.7,
      max_tokens: 500,
      enable_interrupts: true,
      interrupt_timeout: 0.5,
      enable_recording: true,
      max_call_duration: 3600,
      is_active: true,
    });
  });

  it.each([
    ["temperature", 0, 2, -0.01, 2.01],
    ["max_tokens", 1, 4000, 0, 4001],
    ["interrupt_timeout", 0.1, 5, 0.09, 5.01],
    ["max_call_duration", 60, 86_400, 59, 86_401],
    ["end_of_speech_ms", 200, 3000, 199, 3001],
  ])("accepts %s at its bounds and rejects just outside them", (field, min, max, below, above) => {
    expect(CreateConfigBody.safeParse({ ...required, [field]: min }).success).toBe(true);
    expect(CreateConfigBody.safeParse({ ...required, [field]: max }).success).toBe(true);
    for (const bad of [below, above]) {
      const result = CreateConfigBody.safeParse({ ...required, [field]: bad });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual([field]);
    }
  });

  it("requires whole numbers where the seed uses integers", () => {
    expect(CreateConfigBody.safeParse({ ...required, max_tokens: 10.5 }).success).toBe(false);
    expect(CreateConfigBody.safeParse({ ...required, max_call_duration: 90.5 }).success).toBe(false);
  });

  it("knows which voices each TTS model speaks", () => {
    expect(TTS_VOICES["tts-1"]).toEqual([
      "alloy",
      "ash",
      "coral",
      "echo",
      "fable",
      "nova",
      "onyx",
      "sage",
      "shimmer",
    ]);
    expect(TTS_VOICES["tts-1-hd"]).toEqual(TTS_VOICES["tts-1"]);
    for (const voice of ["ballad", "verse", "marin", "cedar"]) {
      expect(canSpeak("gpt-4o-mini-tts", voice)).toBe(true);
      expect(canSpeak("tts-1", voice)).toBe(false);
    }
    const result = SettingsSchema.safeParse({
      ...CreateConfigBody.parse(required),
      phone_number: undefined,
      tts_voice: "verse",
    });
    expect(result.success).toBe(false);
  });

  it("rejects unknown fields in both create and update bodies", () => {
    expect(CreateConfigBody.safeParse({ ...required, voice: "nova" }).error?.issues[0]?.code).toBe(
      "unrecognized_keys",
    );
    expect(UpdateConfigBody.safeParse({ temprature: 1 }).error?.issues[0]?.code).toBe("unrecognized_keys");
    expect(UpdateConfigBody.parse({})).toEqual({});
  });
});
