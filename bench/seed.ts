import {
  CONFIG_PHONE,
  REALTIME_PHONE,
  STORE_MISS_BASE,
  STORE_MISS_NUMBERS,
  STREAM_PHONE,
  storeMissPhone,
  TURNS_PHONE,
} from "./numbers.ts";
import { admin, type Stack } from "./stack.ts";

/** The numbers the bench measures, created through the admin API as an operator would. */

/**
 * Settings every bench number shares: record→reply mode unless a number says otherwise (the
 * default may change), and recording off, so no Twilio REST call runs behind the numbers.
 */
export const BENCH_SETTINGS = {
  display_name: "Bench line",
  conversation_mode: "turns",
  system_prompt: "You are a helpful assistant for a bench test. Answer briefly.",
  greeting: "Hello.",
  tts_voice: "nova",
  enable_recording: false,
} as const;

export async function seedNumber(
  stack: Stack,
  phone: string,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  await admin(stack, "POST", "/admin/phone-config", { phone_number: phone, ...BENCH_SETTINGS, ...overrides });
}

export async function seedConfigNumbers(stack: Stack): Promise<void> {
  await seedNumber(stack, CONFIG_PHONE, { greeting: "Welcome to our sales team!" });
  await seedNumber(stack, TURNS_PHONE);
  for (let i = 0; i < STORE_MISS_NUMBERS; i++) {
    await seedNumber(stack, storeMissPhone(STORE_MISS_BASE.embedded, i));
  }
}

export async function seedStreamNumber(stack: Stack): Promise<void> {
  await seedNumber(stack, STREAM_PHONE, {
    conversation_mode: "stream",
    end_of_speech_ms: STREAM_END_OF_SPEECH_MS,
  });
}

export async function seedRealtimeNumber(stack: Stack): Promise<void> {
  await seedNumber(stack, REALTIME_PHONE, {
    conversation_mode: "realtime",
    inference_model: "gpt-realtime",
    tts_voice: "alloy",
    end_of_speech_ms: STREAM_END_OF_SPEECH_MS,
  });
}

/** The stream number's end_of_speech_ms: silence that ends a caller's utterance. */
export const STREAM_END_OF_SPEECH_MS = 700;
