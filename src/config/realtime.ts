/**
 * What conversation_mode "realtime" (OpenAI's Realtime API, speech to speech) accepts: the one
 * list the schema, its error messages, the README and the fake Realtime server read from.
 * Models and voices as OpenAI's Realtime docs list them (platform.openai.com/docs/guides/realtime,
 * `RealtimeSessionCreateRequest.model` and `RealtimeAudioConfigOutput.voice` in the `openai` SDK).
 */

/** The realtime model families; a dated (`-2025-08-28`) or numbered (`-1.5`) id of either is accepted too. */
export const REALTIME_MODEL_FAMILIES = ["gpt-realtime", "gpt-realtime-mini"] as const;

export const REALTIME_VOICES = [
  "alloy",
  "ash",
  "ballad",
  "coral",
  "echo",
  "sage",
  "shimmer",
  "verse",
  "marin",
  "cedar",
] as const;

/** gpt-realtime, gpt-realtime-mini, gpt-realtime-2025-08-28, gpt-realtime-1.5, gpt-realtime-mini-2025-10-06, ... */
const REALTIME_MODEL = /^gpt-realtime(-mini)?(-\d{4}-\d{2}-\d{2}|-\d+(\.\d+)*)?$/;

export function isRealtimeModel(model: string): boolean {
  return REALTIME_MODEL.test(model);
}

export function isRealtimeVoice(voice: string): boolean {
  return (REALTIME_VOICES as readonly string[]).includes(voice);
}

/** For error messages: what inference_model accepts in realtime mode. */
export const REALTIME_MODELS_ACCEPTED = `${REALTIME_MODEL_FAMILIES.join(" or ")}, or a dated or numbered id of either (gpt-realtime-2025-08-28, gpt-realtime-1.5)`;
