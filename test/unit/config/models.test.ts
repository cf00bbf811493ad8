import { describe, expect, it } from "vitest";
import { chatParameters, configWarnings, modelFamily } from "../../../src/config/models.ts";

const OPENAI = "https://api.openai.com/v1";
const COMPATIBLE = "http://localhost:11434/v1";
const wanted = { temperature: 0.7, maxTokens: 500 };

describe("chat parameters per model family", () => {
  it.each([
    // model, endpoint, token param setting, what is sent
    ["o3-mini", OPENAI, "auto", { max_completion_tokens: 500 }],
    ["o1", COMPATIBLE, "max_tokens", { max_completion_tokens: 500 }],
    ["o4-mini-2025-04-16", COMPATIBLE, "auto", { max_completion_tokens: 500 }],
    ["gpt-5", OPENAI, "auto", { max_completion_tokens: 500 }],
    ["gpt-5-mini", COMPATIBLE, "auto", { max_completion_tokens: 500 }],
    ["gpt-5.1", OPENAI, "auto", { max_completion_tokens: 500 }],
    ["openai/gpt-5-nano", COMPATIBLE, "auto", { max_completion_tokens: 500 }],
    ["gpt-5-chat-latest", OPENAI, "auto", { temperature: 0.7, max_completion_tokens: 500 }],
    ["gpt-4o-mini", OPENAI, "auto", { temperature: 0.7, max_completion_tokens: 500 }],
    ["gpt-4.1", OPENAI, "max_tokens", { temperature: 0.7, max_tokens: 500 }],
    ["gpt-4o-mini", COMPATIBLE, "auto", { temperature: 0.7, max_tokens: 500 }],
    ["llama3.1:8b", COMPATIBLE, "auto", { temperature: 0.7, max_tokens: 500 }],
    ["llama3.1:8b", COMPATIBLE, "max_completion_tokens", { temperature: 0.7, max_completion_tokens: 500 }],
  ] as const)("%s at %s with OPENAI_TOKEN_PARAM=%s sends %o", (model, baseUrl, tokenParam, sent) => {
    expect(chatParameters(model, wanted, { tokenParam, baseUrl })).toEqual(sent);
  });

  it("matches a model by its id, not by a word inside it", () => {
    expect(modelFamily("gpt-4o-mini").reasoning).toBe(false);
    expect(modelFamily("my-o3-clone").reasoning).toBe(false);
    expect(modelFamily("O3-MINI").reasoning).toBe(true);
  });
});

describe("admin write warnings", () => {
  const o3 = { inference_model: "o3-mini", temperature: 0.7, max_tokens: 500 };

  it("warns when a write sets a temperature the model will not receive", () => {
    expect(configWarnings(o3, ["temperature"])).toEqual([
      expect.objectContaining({ field: "temperature", rule: "ignored_for_model" }),
    ]);
  });

  it("warns when a write moves a number to a model that ignores its temperature and counts reasoning tokens", () => {
    expect(configWarnings(o3, ["inference_model"]).map((w) => w.field)).toEqual([
      "temperature",
      "max_tokens",
    ]);
  });

  it("says nothing for the default temperature, classic models, or writes that do not touch these fields", () => {
    expect(configWarnings({ ...o3, temperature: 1 }, ["temperature"])).toEqual([]);
    expect(
      configWarnings({ ...o3, inference_model: "gpt-4o-mini" }, ["inference_model", "temperature"]),
    ).toEqual([]);
    expect(configWarnings(o3, ["greeting"])).toEqual([]);
  });
});
