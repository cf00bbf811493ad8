import { z } from "zod";
import { TOKEN_PARAM_SETTINGS } from "./config/models.ts";
import { SETTING_DEFAULTS } from "./config/schema.ts";
import { canSpeak, TTS_MODELS, voicesFor } from "./config/voices.ts";

/**
 * Every setting the Worker reads, parsed once per isolate. Values arrive as strings from
 * wrangler.toml [vars], .dev.vars or `wrangler secret put`; a bad value fails loudly with
 * the full list of what is wrong rather than surfacing later as a confusing runtime error.
 */

const flag = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1");

const int = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const optionalSecret = z.string().trim().min(1).optional();

const SettingsSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "production"]).default("production"),

    CONFIG_STORE: z.enum(["embedded", "data-api", "mongodb"]).default("embedded"),
    DATA_API_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATA_API_KEY: optionalSecret,
    DATA_API_DATA_SOURCE: z.string().min(1).default("mongodb-atlas"),
    MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, "must start with mongodb:// or mongodb+srv://")
      .optional(),
    MONGODB_DB_NAME: z.string().min(1).default("voiceagent"),

    ADMIN_API_KEY: optionalSecret,

    DEFAULT_COUNTRY: z
      .string()
      .regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 country code such as US")
      .default("US"),
    CONFIG_CACHE_TTL_SECONDS: int(60, 86_400, 300),
    CONFIG_MEMORY_TTL_SECONDS: int(0, 60, 5),
    CONFIG_STORE_TIMEOUT_MS: int(50, 10_000, 1500),
    CONFIG_HISTORY_LIMIT: int(1, 10_000, 100),

    // The defaults of unknown numbers: the same literals a new number's config gets.
    DEFAULT_STT_MODEL: z.string().min(1).default(SETTING_DEFAULTS.stt_model),
    DEFAULT_TTS_MODEL: z.enum(TTS_MODELS).default(SETTING_DEFAULTS.tts_model),
    DEFAULT_TTS_VOICE: z.string().min(1).default(SETTING_DEFAULTS.tts_voice),
    DEFAULT_INFERENCE_MODEL: z.string().min(1).default(SETTING_DEFAULTS.inference_model),
    DEFAULT_SYSTEM_PROMPT: z
      .string()
      .min(1)
      .default("You are a helpful voice agent. Provide concise, natural responses in a friendly tone."),
    DEFAULT_GREETING: z.string().min(1).default("Hello! How can I help you today?"),
    DEFAULT_CLIENT_NUMBER: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "must be an E.164 number such as +18005550100")
      .optional(),

    TWILIO_ACCOUNT_SID: optionalSecret,
    TWILIO_AUTH_TOKEN: optionalSecret,
    TWILIO_API_BASE_URL: z.url().default("https://api.twilio.com"),
    PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    DEV_UNSIGNED_WEBHOOKS: flag.default(false),
    SIGNING_SECRET: optionalSecret,
    TOOL_SIGNING_SECRET: optionalSecret,

    OPENAI_API_KEY: optionalSecret,
    OPENAI_BASE_URL: z.url().default("https://api.openai.com/v1"),
    OPENAI_TOKEN_PARAM: z.enum(TOKEN_PARAM_SETTINGS).default("auto"),
  })
  .superRefine((s, ctx) => {
    const need = (key: keyof typeof s, why: string) => {
      if (s[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: `is required ${why}` });
    };
    if (s.CONFIG_STORE === "data-api") {
      need("DATA_API_URL", "when CONFIG_STORE=data-api");
      need("DATA_API_KEY", "when CONFIG_STORE=data-api");
    }
    if (s.CONFIG_STORE === "mongodb") need("MONGODB_URL", "when CONFIG_STORE=mongodb");
    if (!canSpeak(s.DEFAULT_TTS_MODEL, s.DEFAULT_TTS_VOICE)) {
      ctx.addIssue({
        code: "custom",
        path: ["DEFAULT_TTS_VOICE"],
        message: `"${s.DEFAULT_TTS_VOICE}" is not a voice of ${s.DEFAULT_TTS_MODEL}; choose one of: ${voicesFor(s.DEFAULT_TTS_MODEL).join(", ")}`,
      });
    }
    if (s.DEV_UNSIGNED_WEBHOOKS && s.ENVIRONMENT !== "development") {
      ctx.addIssue({
        code: "custom",
        path: ["DEV_UNSIGNED_WEBHOOKS"],
        message: "may only be true when ENVIRONMENT=development",
      });
    }
  });

export type Settings = z.output<typeof SettingsSchema>;
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as (keyof Settings)[];

export class SettingsError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid Worker settings:\n  - ${problems.join("\n  - ")}`);
    this.name = "SettingsError";
    this.problems = problems;
  }
}

/** Empty strings mean "not set": .dev.vars lines like `DATA_API_KEY=` should not count as a value. */
function presentStrings(env: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = (env as Record<string, unknown>)[name];
    if (typeof value === "string" && value.trim() !== "") out[name] = value.trim();
  }
  return out;
}

export function parseSettings(env: object): Settings {
  const result = SettingsSchema.safeParse(presentStrings(env));
  if (!result.success) {
    throw new SettingsError(
      result.error.issues.map((i) => `${i.path.join(".") || "(settings)"} ${i.message}`),
    );
  }
  return result.data;
}

// The env object is stable for the life of an isolate, so parsing once per object is parsing once.
const parsed = new WeakMap<object, Settings>();

export function settingsOf(env: object): Settings {
  let settings = parsed.get(env);
  if (!settings) {
    settings = parseSettings(env);
    parsed.set(env, settings);
  }
  return settings;
}
