import { beforeEach, describe, expect, it } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript, type ScriptedToolCalls } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import {
  callEnded,
  callSid,
  incomingCall,
  recordingDone,
  recordingSid,
  twilioPost,
} from "../support/twilio.ts";
import { parseTwiml, type TwimlVerb } from "../support/twiml.ts";

/**
 * Tools in turns mode, whole calls driven as Twilio drives them: the fake OpenAI returns tool
 * calls, the fake owner service answers webhook tools (and checks their signatures with README's
 * verifier), and the TwiML, the owner's requests and the call log show what happened.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);

beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

type Chat = { messages: Array<Record<string, unknown>>; tools?: unknown[]; tool_choice?: string };
const chatRequests = async () =>
  (await openai.requests())
    .filter((r) => r.path === "/v1/chat/completions")
    .map((r) => JSON.parse(r.body) as Chat);

const verbs = (body: string, name: string): TwimlVerb[] => parseTwiml(body).filter((v) => v.name === name);

/** A turns-mode number with `tools`, a call to it, and a helper for one caller turn. */
async function callWithTools(tools: unknown[], overrides: Record<string, unknown> = {}) {
  const phone = uniquePhone();
  const created = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { conversation_mode: "turns", enable_recording: false, tools, ...overrides }),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const sid = callSid();
  await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
  const turn = async () =>
    twilioPost("/webhooks/twilio/recording", recordingDone(sid, recordingSid(), phone));
  const log = async () => (await admin("GET", `/admin/calls/${sid}`)).json.call;
  return { phone, sid, turn, log };
}

/** An owner service of our own on the shared fake (its namespace keeps its requests apart). */
function ownerService() {
  const control = fakeControl(testEnv.FAKE_OWNER_URL);
  return {
    ...control,
    async posts() {
      return (await control.requests()).filter((r) => r.method === "POST" && !r.path.startsWith("/__"));
    },
    async checks(): Promise<Array<{ path: string; valid: boolean }>> {
      return (await fetch(`${control.url}/__owner/checks`)).json();
    },
  };
}

const lookupOrder = (url: string, extra: Record<string, unknown> = {}) => ({
  type: "webhook",
  name: "lookup_order",
  description: "Look up an order by its number.",
  url,
  parameters: {
    type: "object",
    properties: { order_id: { type: "string", pattern: "^A-\\d+$" }, pin: { type: "string" } },
    required: ["order_id"],
    additionalProperties: false,
  },
  ...extra,
});

const calls = (...list: ScriptedToolCalls["tool_calls"]): ScriptedToolCalls => ({ tool_calls: list });

describe("webhook tools in turns mode", { timeout: 30_000 }, () => {
  it("calls the owner's function, signed as README shows, and speaks the model's answer from the result", async () => {
    const owner = ownerService();
    const { turn, log, sid, phone } = await callWithTools([lookupOrder(`${owner.url}/orders/lookup`)]);
    await openaiScript(openai.url, {
      transcripts: ["Where is my order A-1042?"],
      replies: [
        calls({ name: "lookup_order", arguments: { order_id: "A-1042", pin: "4321" } }),
        "It ships today.",
      ],
    });
    const res = await turn();
    expect(verbs(res.body, "Play")).toHaveLength(1);
    expect(verbs(res.body, "Record")).toHaveLength(1);

    const [post] = await owner.posts();
    expect(post?.path).toBe("/orders/lookup");
    expect(post?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(post?.body ?? "")).toEqual({
      call: { call_sid: sid, from: "+14155550100", to: phone, phone_number: phone },
      tool: "lookup_order",
      arguments: { order_id: "A-1042", pin: "4321" },
    });
    expect(await owner.checks()).toEqual([expect.objectContaining({ path: "/orders/lookup", valid: true })]);

    // The model got the tool's definition, then the result as a tool message answering its call.
    const [first, second] = await chatRequests();
    expect(first?.tools).toEqual([
      {
        type: "function",
        function: expect.objectContaining({ name: "lookup_order", parameters: expect.any(Object) }),
      },
    ]);
    const toolCalls = (second?.messages.at(-2)?.tool_calls ?? []) as Array<{ id: string }>;
    const toolCallId = toolCalls[0]?.id;
    expect(toolCallId).toMatch(/^call_/);
    expect(second?.messages.at(-1)).toEqual({
      role: "tool",
      tool_call_id: toolCallId,
      content: JSON.stringify({
        ok: true,
        tool: "lookup_order",
        arguments: { order_id: "A-1042", pin: "4321" },
      }),
    });

    const call = await log();
    expect(call.turns[0]).toMatchObject({ outcome: "reply", reply: "It ships today." });
    expect(call.turns[0].tools).toEqual([
      expect.objectContaining({
        name: "lookup_order",
        status: "ok",
        // The PIN the model passed on never reaches the call log.
        arguments: { order_id: "A-1042", pin: "[redacted]" },
        result_bytes: expect.any(Number),
        latency_ms: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(call)).not.toContain("4321");
  });

  it("keeps the tool's exchange in the history of the next turn", async () => {
    const owner = ownerService();
    const { turn } = await callWithTools([lookupOrder(`${owner.url}/lookup`)]);
    await openaiScript(openai.url, {
      transcripts: ["Order A-7, please.", "Thanks."],
      replies: [calls({ name: "lookup_order", arguments: { order_id: "A-7" } }), "It ships today.", "Bye."],
    });
    await turn();
    await turn();
    const third = (await chatRequests())[2];
    expect(third?.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "user",
    ]);
  });

  it("does not call the owner with arguments that break the schema, and tells the model why", async () => {
    const owner = ownerService();
    const { turn, log } = await callWithTools([lookupOrder(`${owner.url}/lookup`)]);
    await openaiScript(openai.url, {
      transcripts: ["My order is 1042."],
      replies: [
        calls({ name: "lookup_order", arguments: { order_id: "1042" } }),
        "Could you read the A number?",
      ],
    });
    await turn();
    expect(await owner.posts()).toHaveLength(0);
    const [, second] = await chatRequests();
    const result = JSON.parse(String(second?.messages.at(-1)?.content));
    expect(result.error).toMatch(/invalid arguments: order_id/);
    expect((await log()).turns[0].tools[0]).toMatchObject({ status: "invalid_arguments" });
  });

  it.each([
    ["answers 500", { status: 500, body: '{"error":"db down"}' }, "http_error", /HTTP 500/],
    [
      "answers something that is not JSON",
      { status: 200, body: "<html>oops</html>" },
      "error",
      /not answer JSON/,
    ],
    [
      "answers more than 16 KiB",
      { status: 200, body: JSON.stringify({ x: "y".repeat(17_000) }) },
      "error",
      /16 KiB/,
    ],
    ["does not answer within timeout_ms", { delayMs: 3000 }, "timeout", /within 500 ms/],
  ])(
    "goes on with a short error for the model when the owner %s",
    async (_what, behavior, status, message) => {
      const owner = ownerService();
      await owner.behave({ ...behavior, times: 1 });
      const { turn, log } = await callWithTools([lookupOrder(`${owner.url}/lookup`, { timeout_ms: 500 })]);
      await openaiScript(openai.url, {
        transcripts: ["Order A-9?"],
        replies: [
          calls({ name: "lookup_order", arguments: { order_id: "A-9" } }),
          "I can't see it right now.",
        ],
      });
      const res = await turn();
      expect(verbs(res.body, "Record")).toHaveLength(1);
      const [, second] = await chatRequests();
      const content = String(second?.messages.at(-1)?.content);
      expect(content.length).toBeLessThan(200);
      expect(JSON.parse(content).error).toMatch(message);
      const call = await log();
      expect(call.turns[0]).toMatchObject({ outcome: "reply", reply: "I can't see it right now." });
      expect(call.turns[0].tools[0]).toMatchObject({ status });
    },
  );

  it("allows four tool rounds per turn; the fifth request must be answered in words", async () => {
    const owner = ownerService();
    const { turn, log } = await callWithTools([lookupOrder(`${owner.url}/lookup`)]);
    const again = calls({ name: "lookup_order", arguments: { order_id: "A-1" } });
    await openaiScript(openai.url, {
      transcripts: ["Check and check again."],
      replies: [again, again, again, again, again],
    });
    const res = await turn();
    expect(verbs(res.body, "Play")).toHaveLength(1);
    expect(await owner.posts()).toHaveLength(4);
    const chats = await chatRequests();
    expect(chats).toHaveLength(5);
    expect(chats.slice(0, 4).map((c) => c.tool_choice)).toEqual([undefined, undefined, undefined, undefined]);
    expect(chats[4]?.tool_choice).toBe("none");
    expect((await log()).turns[0].tools).toHaveLength(4);
  });
});

describe("transfer and end_call in turns mode", { timeout: 30_000 }, () => {
  const transfer = {
    type: "transfer",
    announcement: "Putting you through to sales.",
    targets: [
      { name: "Sales", to: "(415) 555-0123", description: "new orders" },
      { name: "Desk", to: "sip:desk@pbx.example.com", caller_id: "+1 415 555 0100" },
    ],
  };

  it("announces, then <Dial>s the target; a connected call ends as transferred", async () => {
    const { turn, log, sid, phone } = await callWithTools([transfer]);
    await openaiScript(openai.url, {
      transcripts: ["Can I talk to sales?"],
      replies: [
        { content: "Of course.", tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] },
      ],
    });
    const res = await turn();
    expect(parseTwiml(res.body).map((v) => v.name)).toEqual(["Play", "Dial"]);
    const [dial] = verbs(res.body, "Dial");
    expect(dial?.attributes).toMatchObject({
      action: `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/dial`,
      method: "POST",
    });
    expect(dial?.attributes.callerId).toBeUndefined();
    expect(dial?.children).toEqual([expect.objectContaining({ name: "Number", text: "+14155550123" })]);
    const speech = (await openai.requests()).filter((r) => r.path === "/v1/audio/speech").at(-1);
    expect(JSON.parse(speech?.body ?? "{}").input).toBe("Of course. Putting you through to sales.");

    const done = await twilioPost("/webhooks/twilio/dial", {
      CallSid: sid,
      DialCallStatus: "completed",
      DialCallDuration: "61",
    });
    expect(parseTwiml(done.body).map((v) => v.name)).toEqual(["Hangup"]);
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 90));
    const call = await log();
    expect(call.end_reason).toBe("transferred");
    expect(call.turns[0].tools[0]).toMatchObject({
      name: "transfer_call",
      status: "ok",
      target: { name: "Sales", to: "+14155550123" },
      dial_outcome: "completed",
    });
  });

  it("dials a SIP target with its caller ID", async () => {
    const { turn } = await callWithTools([transfer]);
    await openaiScript(openai.url, {
      transcripts: ["The desk, please."],
      replies: [calls({ name: "transfer_call", arguments: { target: "desk" } })],
    });
    const [dial] = verbs((await turn()).body, "Dial");
    expect(dial?.attributes.callerId).toBe("+14155550100");
    expect(dial?.children).toEqual([
      expect.objectContaining({ name: "Sip", text: "sip:desk@pbx.example.com" }),
    ]);
  });

  it("brings the caller back to the agent when the target is busy, and the conversation goes on", async () => {
    const { turn, log, sid } = await callWithTools([transfer]);
    await openaiScript(openai.url, {
      transcripts: ["Sales, please.", "Then tell me the prices."],
      replies: [
        calls({ name: "transfer_call", arguments: { target: "Sales" } }),
        "Prices start at ten dollars.",
      ],
    });
    await turn();
    const back = await twilioPost("/webhooks/twilio/dial", { CallSid: sid, DialCallStatus: "busy" });
    expect(parseTwiml(back.body).map((v) => v.name)).toEqual(["Play", "Record", "Redirect"]);
    const said = (await openai.requests()).filter((r) => r.path === "/v1/audio/speech").at(-1);
    expect(JSON.parse(said?.body ?? "{}").input).toBe(
      "Sorry, Sales is busy right now. Is there anything else I can help you with?",
    );

    const next = await turn();
    expect(verbs(next.body, "Record")).toHaveLength(1);
    const last = (await chatRequests()).at(-1);
    expect(last?.messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: "Sorry, Sales is busy right now. Is there anything else I can help you with?",
      },
      { role: "user", content: "Then tell me the prices." },
    ]);
    const call = await log();
    expect(call.status).toBe("in_progress");
    expect(call.turns[0].tools[0]).toMatchObject({ target: { name: "Sales" }, dial_outcome: "busy" });
  });

  it("refuses a target that is not configured, without dialling", async () => {
    const { turn, log } = await callWithTools([transfer]);
    await openaiScript(openai.url, {
      transcripts: ["Get me the CEO."],
      replies: [
        calls({ name: "transfer_call", arguments: { target: "CEO" } }),
        "I can connect you to Sales or Desk.",
      ],
    });
    const res = await turn();
    expect(verbs(res.body, "Dial")).toHaveLength(0);
    expect((await log()).turns[0].tools[0]).toMatchObject({ status: "invalid_arguments" });
  });

  it("end_call: the goodbye plays, then the call hangs up with end reason agent_hangup", async () => {
    const { turn, log, sid, phone } = await callWithTools([{ type: "end_call" }]);
    await openaiScript(openai.url, {
      transcripts: ["That's all, bye."],
      replies: [
        { content: "Goodbye, have a nice day!", tool_calls: [{ name: "end_call", arguments: "{}" }] },
      ],
    });
    const res = await turn();
    expect(parseTwiml(res.body).map((v) => v.name)).toEqual(["Play", "Hangup"]);
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 20));
    const call = await log();
    expect(call).toMatchObject({ status: "ended", end_reason: "agent_hangup" });
    expect(call.turns[0]).toMatchObject({ reply: "Goodbye, have a nice day!" });
  });
});
