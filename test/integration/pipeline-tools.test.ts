import { afterEach, describe, expect, it, vi } from "vitest";
import { pcm16ToMulaw } from "../../src/audio/mulaw.ts";
import type { TurnRecord } from "../../src/call/summary.ts";
import type { CallConfig } from "../../src/config/defaults.ts";
import { SETTING_DEFAULTS } from "../../src/config/schema.ts";
import { type ToolConfig, ToolsSchema } from "../../src/config/tools.ts";
import type { OutboundAudio } from "../../src/conversation/engine.ts";
import { PipelineEngine } from "../../src/conversation/pipeline.ts";
import { FILLER, type ToolIntent, ToolRunner } from "../../src/conversation/tools/index.ts";
import { log } from "../../src/log.ts";
import { createOpenAIProviders } from "../../src/providers/openai.ts";
import type { ChatMessage } from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { type OpenAIScript, openaiScript } from "../fakes/openai-client.ts";
import { testEnv } from "../support/env.ts";
import { concat, fixtureSamples } from "../unit/audio/signals.ts";

/**
 * The stream pipeline with tools: the fake OpenAI streams tool calls, the fake owner service
 * answers webhook tools, and what the engine sends toward Twilio (frames, marks, clears) shows
 * when each thing was said relative to the tool.
 */
const CONFIG: CallConfig = {
  ...SETTING_DEFAULTS,
  phone_number: "+15550100",
  display_name: "Rosa's Bakery",
  system_prompt: "You are the front desk of Rosa's Bakery.",
  greeting: "Welcome!",
  conversation_mode: "stream",
  enable_interrupts: true,
  interrupt_timeout: 0.3,
  end_of_speech_ms: 300,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
  version: 1,
  uses_defaults: false,
};

const silence = (ms: number) => new Int16Array(8 * ms);
const hello = () => fixtureSamples("hello");

const engines: PipelineEngine[] = [];
afterEach(() => {
  for (const engine of engines.splice(0)) engine.close();
});

async function setup(script: OpenAIScript, tools: unknown[]) {
  const openai = fakeControl(testEnv.FAKE_OPENAI_URL);
  const owner = fakeControl(testEnv.FAKE_OWNER_URL);
  await openaiScript(openai.url, script);
  const parsed: ToolConfig[] = ToolsSchema.parse(
    tools.map((t) => (t === "lookup" ? lookup(`${owner.url}/lookup`) : t)),
  );
  const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${openai.url}/v1` });
  /** everything sent toward the caller, with when it was sent */
  const sent: Array<OutboundAudio & { at: number }> = [];
  const turns: Array<{ turn: TurnRecord; messages: ChatMessage[] }> = [];
  const ended: Array<{ reason: string; at: number }> = [];
  const transfers: Array<{ intent: ToolIntent; seq: number; at: number }> = [];
  const engine = new PipelineEngine(
    {
      ...providers,
      send: (out) => sent.push({ ...out, at: Date.now() }),
      onTurn: (turn, messages) => turns.push({ turn, messages }),
      onEnd: ({ reason }) => ended.push({ reason, at: Date.now() }),
      onTransfer: async (intent, seq) => {
        transfers.push({ intent, seq, at: Date.now() });
        return true;
      },
      tools: new ToolRunner(parsed, {
        context: { call_sid: "CA1", from: "+14155550100", to: "+15550100", phone_number: "+15550100" },
        signingSecret: testEnv.TOOL_SIGNING_SECRET,
        environment: "development",
      }),
      now: () => Date.now(),
      log: log.with({ test: "pipeline-tools" }),
    },
    { config: CONFIG, history: [], nextSeq: 1 },
  );
  engines.push(engine);
  const marks = () => sent.flatMap((o) => (o.kind === "mark" ? [o.name] : []));
  const playAll = () => {
    for (const name of marks()) engine.markPlayed(name);
  };
  const speech = async () =>
    (await openai.requests())
      .filter((r) => r.path === "/v1/audio/speech")
      .map((r) => ({ text: JSON.parse(r.body).input as string, at: r.at }));
  const ownerPosts = async () => (await owner.requests()).filter((r) => r.method === "POST");
  const chats = async () =>
    (await openai.requests())
      .filter((r) => r.path === "/v1/chat/completions")
      .map((r) => JSON.parse(r.body) as { messages: Array<{ role: string; content: unknown }> });
  return { engine, owner, sent, turns, ended, transfers, marks, playAll, speech, ownerPosts, chats };
}

function lookup(url: string) {
  return {
    type: "webhook",
    name: "lookup_order",
    description: "Look up an order.",
    url,
    parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
  };
}

function say(engine: PipelineEngine, speech: Int16Array): void {
  const mulaw = pcm16ToMulaw(concat(speech, silence(600)));
  for (let at = 0; at < mulaw.length; at += 160) engine.pushAudio(mulaw.subarray(at, at + 160));
}

const waitFor = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 8000, interval: 10 });

describe("PipelineEngine with tools", () => {
  it("speaks what the model says before a tool call before the tool runs, then the answer", async () => {
    const t = await setup(
      {
        transcripts: ["Where is order A-1?"],
        replies: [
          {
            content: "Let me check that for you.",
            tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-1" } }],
          },
          "It ships today.",
        ],
      },
      ["lookup"],
    );
    say(t.engine, hello());
    await waitFor(() => expect(t.marks()).toEqual(["turn-1-0", "turn-1-1"]));
    const [post] = await t.ownerPosts();
    const firstMark = t.sent.find((o) => o.kind === "mark");
    expect(post).toBeDefined();
    // The first sentence's audio and mark left before the owner was called.
    expect(firstMark?.at).toBeLessThanOrEqual(post?.at ?? 0);
    expect((await t.speech()).map((s) => s.text)).toEqual(["Let me check that for you.", "It ships today."]);
    t.playAll();
    await waitFor(() => expect(t.turns).toHaveLength(1));
    const [{ turn, messages } = { turn: undefined, messages: [] }] = t.turns;
    expect(turn).toMatchObject({
      outcome: "reply",
      reply: "Let me check that for you. It ships today.",
      tools: [expect.objectContaining({ name: "lookup_order", status: "ok" })],
    });
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(t.marks()).not.toContain("turn-1-filler");
  });

  it("says one filler when a tool takes longer than 1.5 s", async () => {
    const t = await setup(
      {
        transcripts: ["Order A-2?"],
        replies: [calls({ name: "lookup_order", arguments: { order_id: "A-2" } }), "Found it."],
      },
      ["lookup"],
    );
    await t.owner.behave({ delayMs: 2200, times: 1 });
    say(t.engine, hello());
    await waitFor(() => expect(t.marks()).toEqual(["turn-1-filler", "turn-1-0"]));
    expect((await t.speech()).map((s) => s.text)).toEqual([FILLER, "Found it."]);
  });

  it("barge-in during a tool cancels the follow-up, keeps the result, and answers the new words with it", async () => {
    const t = await setup(
      {
        transcripts: ["Order A-3?", "Actually, never mind."],
        replies: [
          { content: "Checking.", tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-3" } }] },
          "No problem.",
        ],
      },
      ["lookup"],
    );
    await t.owner.behave({ delayMs: 1200, times: 1 });
    say(t.engine, hello());
    await waitFor(async () => expect(await t.ownerPosts()).toHaveLength(1));
    // The caller talks while the tool runs.
    say(t.engine, hello());
    await waitFor(() => expect(t.sent.some((o) => o.kind === "clear")).toBe(true));
    await waitFor(() => expect(t.turns).toHaveLength(1));
    expect(t.turns[0]?.turn).toMatchObject({
      interrupted: true,
      tools: [expect.objectContaining({ name: "lookup_order", status: "ok" })],
    });
    await waitFor(async () => expect(await t.chats()).toHaveLength(2));
    const [, second] = await t.chats();
    // No follow-up for the interrupted turn: the next request answers the new words, with the tool's result.
    expect(second?.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool", "user"]);
    expect(second?.messages.at(-1)?.content).toBe("Actually, never mind.");
    expect(JSON.parse(String(second?.messages.at(-2)?.content))).toMatchObject({ ok: true });
    await waitFor(async () =>
      expect((await t.speech()).map((s) => s.text)).toEqual(["Checking.", "No problem."]),
    );
    await t.engine.idle();
    expect(await t.chats()).toHaveLength(2);
  });

  it("end_call: hangs up only once the goodbye has played", async () => {
    const t = await setup(
      {
        transcripts: ["Bye!"],
        replies: [{ content: "Goodbye, take care!", tool_calls: [{ name: "end_call", arguments: "{}" }] }],
      },
      [{ type: "end_call" }],
    );
    say(t.engine, hello());
    await waitFor(() => expect(t.marks()).toEqual(["turn-1-0"]));
    await t.engine.idle();
    expect(t.ended).toEqual([]);
    t.playAll();
    expect(t.ended).toEqual([{ reason: "agent_hangup", at: expect.any(Number) }]);
    expect(t.turns[0]?.turn).toMatchObject({ reply: "Goodbye, take care!" });
  });

  it("transfer: the announcement plays, then the caller is handed over", async () => {
    const t = await setup(
      {
        transcripts: ["Sales, please."],
        replies: [{ tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] }],
      },
      [{ type: "transfer", targets: [{ name: "Sales", to: "+14155550123" }] }],
    );
    say(t.engine, hello());
    await waitFor(() => expect(t.marks()).toEqual(["turn-1-0"]));
    expect((await t.speech()).map((s) => s.text)).toEqual(["Connecting you now."]);
    await t.engine.idle();
    expect(t.transfers).toEqual([]);
    t.playAll();
    expect(t.transfers).toEqual([
      {
        intent: expect.objectContaining({
          kind: "transfer",
          target: expect.objectContaining({ name: "Sales" }),
        }),
        seq: 1,
        at: expect.any(Number),
      },
    ]);
    expect(t.turns[0]?.turn.tools?.[0]).toMatchObject({ target: { name: "Sales", to: "+14155550123" } });
  });
});

function calls(...list: Array<{ name: string; arguments: Record<string, unknown> | string }>) {
  return { tool_calls: list };
}
