import { describe, expect, it } from "vitest";
import { createOpenAIProviders } from "../../src/providers/openai.ts";
import {
  type ChatMessage,
  type ChatRequest,
  type ChatStreamEvent,
  ProviderError,
} from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { type OpenAIScript, openaiScript } from "../fakes/openai-client.ts";
import { testEnv } from "../support/env.ts";

/**
 * Function calling through the provider against the OpenAI fake: tool calls come back whole
 * (completions) or assembled from streamed fragments, tool messages go out in the wire format,
 * and what OpenAI refuses is refused the same way.
 */
async function setup(script: OpenAIScript = {}) {
  const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
  await openaiScript(fake.url, script);
  const { llm } = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1` });
  const bodies = async () =>
    (await fake.requests())
      .filter((r) => r.path === "/v1/chat/completions")
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
  return { llm, bodies };
}

const LOOKUP = {
  name: "lookup_order",
  description: "Look up an order.",
  parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
};

const request = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "gpt-4o-mini",
  messages: [{ role: "system", content: "Be brief." }, ...messages],
  temperature: 0.2,
  maxTokens: 100,
  tools: [LOOKUP],
  ...extra,
});

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("function calling through the OpenAI provider", () => {
  it("returns the model's tool calls from a completion and sends the tool definitions", async () => {
    const { llm, bodies } = await setup({
      replies: [{ tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-1" } }] }],
    });
    const result = await llm.complete(request([{ role: "user", content: "Order A-1?" }]));
    expect(result).toEqual({
      text: "",
      toolCalls: [
        { id: expect.stringMatching(/^call_/), name: "lookup_order", arguments: '{"order_id":"A-1"}' },
      ],
    });
    const [body] = await bodies();
    expect(body?.tools).toEqual([{ type: "function", function: LOOKUP }]);
    expect(body?.tool_choice).toBeUndefined();
  });

  it("streams the words before a tool call, then the call assembled from its fragments", async () => {
    const { llm } = await setup({
      replies: [
        {
          content: "Let me look.",
          tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-12345", note: "fragmented" } }],
        },
      ],
    });
    const events = await collect(llm.streamEvents(request([{ role: "user", content: "Order?" }])));
    const text = events.flatMap((e) => (e.type === "text" ? [e.text] : [])).join("");
    expect(text).toBe("Let me look.");
    expect(events.at(-1)).toEqual({
      type: "tool_calls",
      calls: [
        {
          id: expect.stringMatching(/^call_/),
          name: "lookup_order",
          arguments: '{"order_id":"A-12345","note":"fragmented"}',
        },
      ],
    });
  });

  it("sends a tool round in OpenAI's wire format, which the API accepts", async () => {
    const { llm, bodies } = await setup({ replies: ["It ships today."] });
    const call = { id: "call_abc", name: "lookup_order", arguments: '{"order_id":"A-1"}' };
    const result = await llm.complete(
      request([
        { role: "user", content: "Order A-1?" },
        { role: "assistant", content: "", toolCalls: [call] },
        { role: "tool", toolCallId: "call_abc", content: '{"status":"shipped"}' },
      ]),
    );
    expect(result).toEqual({ text: "It ships today." });
    const [body] = await bodies();
    expect(((body?.messages ?? []) as unknown[]).slice(-2)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_abc",
            type: "function",
            function: { name: "lookup_order", arguments: '{"order_id":"A-1"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_abc", content: '{"status":"shipped"}' },
    ]);
  });

  it("with tool_choice none, the model answers in words even when a tool call is scripted", async () => {
    const { llm, bodies } = await setup({
      replies: [{ tool_calls: [{ name: "lookup_order", arguments: {} }] }],
    });
    const result = await llm.complete(request([{ role: "user", content: "Again?" }], { toolChoice: "none" }));
    expect(result.toolCalls).toBeUndefined();
    expect(result.text).not.toBe("");
    expect((await bodies())[0]?.tool_choice).toBe("none");
  });

  it.each([
    [
      "a tool message answering no tool call",
      request([
        { role: "user", content: "Hi" },
        { role: "tool", toolCallId: "call_x", content: "{}" },
      ]),
      /messages with role 'tool' must be a response to a preceeding message with 'tool_calls'/,
    ],
    [
      "a tool call left without its result",
      request([
        { role: "user", content: "Hi" },
        {
          role: "assistant",
          content: "",
          toolCalls: [{ id: "call_y", name: "lookup_order", arguments: "{}" }],
        },
        { role: "user", content: "Hello?" },
      ]),
      /must be followed by tool messages responding to each 'tool_call_id'.*call_y/,
    ],
    [
      "a function name OpenAI's pattern refuses",
      request([{ role: "user", content: "Hi" }], { tools: [{ ...LOOKUP, name: "look up" }] }),
      /tools\[0\]\.function\.name': string does not match pattern/,
    ],
    [
      "parameters that are not an object schema",
      request([{ role: "user", content: "Hi" }], { tools: [{ ...LOOKUP, parameters: { type: "string" } }] }),
      /Invalid schema for function 'lookup_order'.*type: "object"/,
    ],
  ])("is refused with OpenAI's 400 for %s", async (_what, req, message) => {
    const { llm } = await setup();
    const err = await llm.complete(req).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: "http", status: 400 });
    expect((err as Error).message).toMatch(message);
  });

  it("never sends an empty tools array (OpenAI refuses one)", async () => {
    const { llm, bodies } = await setup({ replies: ["Hi."] });
    await llm.complete(request([{ role: "user", content: "Hi" }], { tools: [], toolChoice: "none" }));
    const [body] = await bodies();
    expect(body).not.toHaveProperty("tools");
    expect(body).not.toHaveProperty("tool_choice");
  });
});
