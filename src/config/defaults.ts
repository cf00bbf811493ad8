import type { Settings } from "../env.ts";
import type { E164 } from "./phone-number.ts";
import { type PhoneConfig, SETTING_DEFAULTS } from "./schema.ts";

/** What a call runs with: a stored document, or the defaults for an unknown or inactive number. */
export type CallConfig = PhoneConfig & { uses_defaults: boolean };

/** The configuration for a number nobody configured (or deactivated), from the Worker's settings. */
export function defaultCallConfig(settings: Settings, phone: E164): CallConfig {
  const epoch = new Date(0).toISOString();
  return {
    ...SETTING_DEFAULTS,
    phone_number: phone,
    display_name: "Default Configuration",
    stt_model: settings.DEFAULT_STT_MODEL,
    // src/env.ts has checked that this model speaks this voice.
    tts_model: settings.DEFAULT_TTS_MODEL,
    tts_voice: settings.DEFAULT_TTS_VOICE,
    inference_model: settings.DEFAULT_INFERENCE_MODEL,
    system_prompt: settings.DEFAULT_SYSTEM_PROMPT,
    greeting: settings.DEFAULT_GREETING,
    created_at: epoch,
    updated_at: epoch,
    version: 0,
    uses_defaults: true,
  };
}

/** The config a stored document gives a call: its own when active, the defaults when not. */
export function callConfigFrom(doc: PhoneConfig | null, settings: Settings, phone: E164): CallConfig {
  return doc?.is_active ? { ...doc, uses_defaults: false } : defaultCallConfig(settings, phone);
}
