/**
 * Which chat parameters each model family accepts: the one table the provider (what is sent),
 * the admin API (which warnings a write gets) and the README's compatibility table follow.
 *
 * Source: OpenAI's API reference for chat completions. `max_tokens` is deprecated in favour of
 * `max_completion_tokens`, which every current OpenAI chat model accepts; reasoning models
 * (o-series, GPT-5 family) refuse `max_tokens` (400 `unsupported_parameter`) and any
 * `temperature` but the default 1 (400 `unsupported_value`). Many OpenAI-compatible servers
 * (older vLLM, Ollama, LM Studio, gateways) know only `max_tokens`.
 */

import { isRealtimeModel } from "./realtime.ts";

export interface ModelFamily {
  /** short name, used in warnings and the README */
  name: string;
  /** model ids of this family, e.g. "o3-mini", "gpt-5-mini-2025-08-07" */
  match: RegExp;
  /** models that think before answering: they refuse `max_tokens` on any endpoint */
  reasoning: boolean;
  /** the only temperature the family accepts, or null when any 0..2 is allowed */
  fixedTemperature: number | null;
}

/** First match wins; a model no family matches is treated as a classic chat model. */
export const MODEL_FAMILIES: readonly ModelFamily[] = [
  // gpt-5-chat-latest is GPT-5's non-reasoning chat snapshot: a classic chat model.
  { name: "GPT-5 chat", match: /^gpt-5(\.\d+)?-chat/i, reasoning: false, fixedTemperature: null },
  { name: "GPT-5", match: /^gpt-5/i, reasoning: true, fixedTemperature: 1 },
  { name: "o-series", match: /^o\d/i, reasoning: true, fixedTemperature: 1 },
  {
    name: "GPT-4.1 / GPT-4o / GPT-4 / GPT-3.5",
    match: /^gpt-(4|3\.5)/i,
    reasoning: false,
    fixedTemperature: null,
  },
];

const CLASSIC: ModelFamily = {
  name: "other chat models",
  match: /.*/,
  reasoning: false,
  fixedTemperature: null,
};

/** The family of a model id; an id with a vendor prefix ("openai/o3-mini") is matched by its last part. */
export function modelFamily(model: string): ModelFamily {
  const id = model.slice(model.lastIndexOf("/") + 1);
  return MODEL_FAMILIES.find((f) => f.match.test(id)) ?? CLASSIC;
}

/**
 * How the reply length limit is sent (setting OPENAI_TOKEN_PARAM):
 * - `max_completion_tokens` / `max_tokens`: always that name (reasoning models always get
 *   `max_completion_tokens`, the only one they accept anywhere);
 * - `auto`: `max_completion_tokens` when OPENAI_BASE_URL is OpenAI's own API, otherwise
 *   `max_tokens` for classic models, the name every OpenAI-compatible server knows.
 */
export type TokenParamSetting = "auto" | "max_completion_tokens" | "max_tokens";
export const TOKEN_PARAM_SETTINGS = ["auto", "max_completion_tokens", "max_tokens"] as const;

/** Whether `baseUrl` is OpenAI's own API (api.openai.com), not a compatible server. */
export function isOpenAIApi(baseUrl: string): boolean {
  return URL.canParse(baseUrl) && new URL(baseUrl).hostname === "api.openai.com";
}

export interface ChatParameters {
  temperature?: number;
  max_completion_tokens?: number;
  max_tokens?: number;
}

/**
 * The sampling and length parameters a chat request to `model` carries: `temperature` only
 * where the family accepts a choice, and the token limit under the name the endpoint knows.
 */
export function chatParameters(
  model: string,
  wanted: { temperature: number; maxTokens: number },
  endpoint: { tokenParam: TokenParamSetting; baseUrl: string },
): ChatParameters {
  const family = modelFamily(model);
  const name =
    family.reasoning || endpoint.tokenParam === "max_completion_tokens"
      ? "max_completion_tokens"
      : endpoint.tokenParam === "max_tokens" || !isOpenAIApi(endpoint.baseUrl)
        ? "max_tokens"
        : "max_completion_tokens";
  return {
    ...(family.fixedTemperature === null && { temperature: wanted.temperature }),
    [name]: wanted.maxTokens,
  };
}

export interface ConfigWarning {
  field: string;
  rule: string;
  message: string;
}

/**
 * What an admin write stored but a call will not send. `changed` lists the fields the write
 * set; only a write touching the model or the parameter itself warns, so an old setting does
 * not warn on every unrelated edit.
 */
export function configWarnings(
  config: { inference_model: string; temperature: number; max_tokens: number },
  changed: readonly string[],
): ConfigWarning[] {
  const family = modelFamily(config.inference_model);
  const touched = (field: string) => changed.includes(field) || changed.includes("inference_model");
  const warnings: ConfigWarning[] = [];
  if (isRealtimeModel(config.inference_model) && touched("temperature")) {
    warnings.push({
      field: "temperature",
      rule: "ignored_for_model",
      message: `temperature ${config.temperature} is stored but not sent: the Realtime API's session (${config.inference_model}) has no temperature parameter`,
    });
  } else if (
    family.fixedTemperature !== null &&
    config.temperature !== family.fixedTemperature &&
    touched("temperature")
  ) {
    warnings.push({
      field: "temperature",
      rule: "ignored_for_model",
      message: `temperature ${config.temperature} is stored but not sent: ${config.inference_model} (${family.name}) accepts only its default temperature ${family.fixedTemperature}`,
    });
  }
  if (family.reasoning && touched("max_tokens")) {
    warnings.push({
      field: "max_tokens",
      rule: "includes_reasoning",
      message: `max_tokens is sent to ${config.inference_model} as max_completion_tokens, which also counts its hidden reasoning tokens: a low limit can leave no words for the reply`,
    });
  }
  return warnings;
}
