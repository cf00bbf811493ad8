import { z } from "@hono/zod-openapi";
import { isRealtimeModel, isRealtimeVoice, REALTIME_MODELS_ACCEPTED, REALTIME_VOICES } from "./realtime.ts";
import { checkRoutingLayers } from "./routing-check.ts";
import { routingFields } from "./routing-schema.ts";
import { type ToolConfig, ToolsSchema } from "./tools.ts";
import { canSpeak, TTS_MODELS, type TtsModel, voicesFor } from "./voices.ts";

/**
 * The per-number configuration document: the seed's fields, defaults and bounds, plus
 * `version` (bumped on every write) and the realtime fields of the Media Streams mode.
 */

const modelId = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "must be a model id such as gpt-4o-mini");

/** The fields an admin may set, without defaults (PUT takes any subset of these). */
const settingsFields = {
  display_name: z.string().trim().min(1).max(200).openapi({ example: "Main Support Line" }),
  stt_model: modelId.openapi({ example: "whisper-1" }),
  tts_model: z.enum(TTS_MODELS).openapi({ example: "tts-1" }),
  tts_voice: z.string().min(1).max(40).openapi({ example: "nova" }),
  inference_model: modelId.openapi({ example: "gpt-4o-mini" }),
  temperature: z.number().min(0).max(2),
  max_tokens: z.number().int().min(1).max(4000),
  system_prompt: z
    .string()
    .trim()
    .min(1)
    .max(16_000)
    .openapi({ example: "You are a helpful customer support agent. Provide concise, friendly responses." }),
  greeting: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .openapi({ example: "Welcome to customer support! How can I help you today?" }),
  enable_interrupts: z.boolean(),
  interrupt_timeout: z.number().min(0.1).max(5).openapi({ description: "seconds" }),
  enable_recording: z.boolean(),
  // Twilio ends any call at 24 hours, so a longer limit could never be reached.
  max_call_duration: z.number().int().min(60).max(86_400).openapi({ description: "seconds" }),
  conversation_mode: z.enum(["stream", "turns", "realtime"]).openapi({
    description:
      "stream: Media Streams pipeline (VAD, STT, LLM, TTS); turns: record, then reply; realtime: OpenAI Realtime speech to speech",
  }),
  end_of_speech_ms: z
    .number()
    .int()
    .min(200)
    .max(3000)
    .openapi({ description: "silence that ends a caller's utterance in stream mode (ms)" }),
  is_active: z.boolean(),
  tools: ToolsSchema,
};

/**
 * What a variant, the after-hours settings or a caller rule may override: every field but the
 * number's own (its name, recording, duration limit and active flag).
 */
const {
  display_name: _name,
  enable_recording: _recording,
  max_call_duration: _duration,
  is_active: _active,
  ...conversationFields
} = settingsFields;
export const PartialSettings = z
  .strictObject(conversationFields)
  .partial()
  .openapi("PartialSettings", { description: "conversation fields that override the number's own" });
export type PartialSettings = z.output<typeof PartialSettings>;

const routing = routingFields(PartialSettings);
/** The routing fields (issue 10), optional on every document. */
const routingOptional = {
  variants: routing.variants.optional(),
  schedule: routing.schedule.optional(),
  caller_rules: routing.caller_rules.optional(),
};

export type SettingsKey = keyof typeof settingsFields | keyof typeof routingOptional;
export const SETTINGS_KEYS = [
  ...Object.keys(settingsFields),
  ...Object.keys(routingOptional),
] as SettingsKey[];

const settingsObject = z.strictObject({ ...settingsFields, ...routingOptional });
export type PhoneSettings = z.output<typeof settingsObject>;

/** The seed's defaults for everything but the four fields a create must give. */
export const SETTING_DEFAULTS = {
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
  conversation_mode: "stream",
  end_of_speech_ms: 700,
  is_active: true,
  tools: [] as ToolConfig[],
} as const satisfies Omit<PhoneSettings, "display_name" | "system_prompt" | "greeting">;

/** A voice the chosen model cannot speak is an error that lists the voices it can. */
function checkVoice(s: { tts_model?: TtsModel; tts_voice?: string }, ctx: z.RefinementCtx): void {
  if (s.tts_model && s.tts_voice && !canSpeak(s.tts_model, s.tts_voice)) {
    ctx.addIssue({
      code: "custom",
      path: ["tts_voice"],
      message: `voice "${s.tts_voice}" is not available for ${s.tts_model}; choose one of: ${voicesFor(s.tts_model).join(", ")}`,
    });
  }
}

/** Realtime mode speaks with a realtime model in a realtime voice: anything else lists what it accepts. */
function checkRealtime(
  s: { conversation_mode?: string; inference_model?: string; tts_voice?: string },
  ctx: z.RefinementCtx,
): void {
  if (s.conversation_mode !== "realtime") return;
  if (s.inference_model && !isRealtimeModel(s.inference_model)) {
    ctx.addIssue({
      code: "custom",
      path: ["inference_model"],
      message: `model "${s.inference_model}" is not a realtime model; conversation_mode "realtime" accepts ${REALTIME_MODELS_ACCEPTED}`,
    });
  }
  if (s.tts_voice && !isRealtimeVoice(s.tts_voice)) {
    ctx.addIssue({
      code: "custom",
      path: ["tts_voice"],
      message: `voice "${s.tts_voice}" is not a realtime voice; conversation_mode "realtime" accepts: ${REALTIME_VOICES.join(", ")}`,
    });
  }
}

/** The fields without routing, validated as one config: what every merge of layers must pass. */
const CoreSettings = z.object(settingsFields).superRefine(checkVoice).superRefine(checkRealtime);

/** Every combination of schedule, caller rule and variant, merged onto the base, is a valid config. */
function checkRouting(s: z.output<typeof settingsObject>, ctx: z.RefinementCtx): void {
  checkRoutingLayers(s, (merged) => CoreSettings.safeParse(merged).error?.issues ?? [], ctx);
}

const phoneNumberField = z.string().min(1).max(40).openapi({ example: "+18668134984" });

/** POST body: the phone number plus every setting, the seed's four required, the rest defaulted. */
export const CreateConfigBody = z
  .strictObject({
    phone_number: phoneNumberField,
    ...settingsFields,
    stt_model: settingsFields.stt_model.default(SETTING_DEFAULTS.stt_model),
    tts_model: settingsFields.tts_model.default(SETTING_DEFAULTS.tts_model),
    tts_voice: settingsFields.tts_voice.default(SETTING_DEFAULTS.tts_voice),
    inference_model: settingsFields.inference_model.default(SETTING_DEFAULTS.inference_model),
    temperature: settingsFields.temperature.default(SETTING_DEFAULTS.temperature),
    max_tokens: settingsFields.max_tokens.default(SETTING_DEFAULTS.max_tokens),
    enable_interrupts: settingsFields.enable_interrupts.default(SETTING_DEFAULTS.enable_interrupts),
    interrupt_timeout: settingsFields.interrupt_timeout.default(SETTING_DEFAULTS.interrupt_timeout),
    enable_recording: settingsFields.enable_recording.default(SETTING_DEFAULTS.enable_recording),
    max_call_duration: settingsFields.max_call_duration.default(SETTING_DEFAULTS.max_call_duration),
    conversation_mode: settingsFields.conversation_mode.default(SETTING_DEFAULTS.conversation_mode),
    end_of_speech_ms: settingsFields.end_of_speech_ms.default(SETTING_DEFAULTS.end_of_speech_ms),
    is_active: settingsFields.is_active.default(SETTING_DEFAULTS.is_active),
    tools: settingsFields.tools.default(() => []),
    ...routingOptional,
  })
  .superRefine(checkVoice)
  .superRefine(checkRealtime)
  .superRefine(checkRouting)
  .openapi("PhoneConfigCreate");

/** The settings after a PUT's merge, validated as a whole. */
export const SettingsSchema = settingsObject
  .superRefine(checkVoice)
  .superRefine(checkRealtime)
  .superRefine(checkRouting);

/** PUT body: any subset; `phone_number` is allowed only to repeat the one in the path. */
export const UpdateConfigBody = z
  .strictObject({ phone_number: phoneNumberField, ...settingsFields, ...routingOptional })
  .partial()
  .openapi("PhoneConfigUpdate");

export const PhoneConfigSchema = z
  .object({
    phone_number: phoneNumberField,
    ...settingsFields,
    ...routingOptional,
    created_at: z.string().openapi({ example: "2026-01-01T00:00:00.000Z" }),
    updated_at: z.string().openapi({ example: "2026-01-01T00:00:00.000Z" }),
    version: z.number().int().openapi({ description: "incremented on every write" }),
  })
  .openapi("PhoneConfig");

/** A stored document as every store returns it: E.164 number, ISO timestamps. */
export type PhoneConfig = z.output<typeof PhoneConfigSchema>;
