import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";
import { parseTwiml, streamParameters } from "../support/twiml.ts";
import { concat, fixtureSamples } from "../unit/audio/signals.ts";

/**
 * Transfer and end_call over a live Media Stream, in stream and realtime modes: the call is
 * changed through Twilio's REST API only once the audio before it has played (its mark came
 * back), and a transfer that does not connect brings the caller back to the agent on a new stream.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

const silence = (ms: number) => new Int16Array(8 * ms);
const hello = () => fixtureSamples("hello");

async function streamCall(tools: unknown[], overrides: Record<string, unknown> = {}) {
  const phone = uniquePhone();
  const created = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, {
      conversation_mode: "stream",
      end_of_speech_ms: 300,
      enable_recording: false,
      tools,
      ...overrides,
    }),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const sid = callSid();
  const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
  return { phone, sid, ...(await openStream(answer.body, sid)) };
}

/** Twilio opening the Media Stream a <Connect><Stream> answer asks for, up to the first words played. */
async function openStream(twimlBody: string, sid: string) {
  const stream = parseTwiml(twimlBody)[0]?.children[0];
  const parameters = streamParameters(stream);
  const { client } = await MediaStreamClient.connect(stream?.attributes.url ?? "", sid);
  if (!client) throw new Error("the stream was refused");
  client.start(parameters);
  // The greeting's mark: Twilio has played it.
  await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(0), { timeout: 8000 });
  client.echoMarks(client.marks());
  return { client };
}

const REALTIME = { conversation_mode: "realtime", inference_model: "gpt-realtime", tts_voice: "coral" };
/** What the agent says when Twilio would not move the call to the <Dial>. */
const REFUSED = "Sorry, I couldn't connect you to Sales. Is there anything else I can help you with?";

/** Twilio refuses the call's next update, as it does a Twiml over 4,000 characters. */
const refuseUpdate = (sid: string) =>
  twilio.behave({
    status: 400,
    pathIncludes: `/Calls/${sid}.json`,
    times: 1,
    body: JSON.stringify({
      code: 32018,
      message: "Twiml size exceeded maximum allowed value of 4000 characters",
      more_info: "https://www.twilio.com/docs/errors/32018",
      status: 400,
    }),
  });

/** Everything the pipeline had spoken (text-to-speech inputs), in order. */
const spoken = async (): Promise<string[]> =>
  (await openai.requests()).filter((r) => r.path === "/v1/audio/speech").map((r) => JSON.parse(r.body).input);

/** The last model request ends with the agent's `said` and then the caller's `next` words. */
async function lastChatEnds(said: string, next: string) {
  const chats = (await openai.requests()).filter((r) => r.path === "/v1/chat/completions");
  const last = JSON.parse(chats.at(-1)?.body ?? "{}") as {
    messages: Array<{ role: string; content: string }>;
  };
  expect(last.messages.slice(-2)).toEqual([
    { role: "assistant", content: said },
    { role: "user", content: next },
  ]);
}

/** The events the Worker sent the fake Realtime server, of one type. */
const realtimeEvents = async (type: string) =>
  (await openai.requests())
    .filter((r) => r.method === "WS")
    .map((r) => JSON.parse(r.body) as { type: string; item?: { type: string } })
    .filter((e) => e.type === type);

const callUpdates = async (sid: string) =>
  (await twilio.requests())
    .filter((r) => r.path.endsWith(`/Calls/${sid}.json`))
    .map((r) => parseTwiml(new URLSearchParams(r.body).get("Twiml") ?? ""));

const transfer = { type: "transfer", targets: [{ name: "Sales", to: "+1 415 555 0123" }] };

/** The one REST update of the call, a <Dial> to Sales reporting to the dial webhook; returns its attributes. */
async function dialedSales(sid: string) {
  await vi.waitFor(async () => expect(await callUpdates(sid)).toHaveLength(1), { timeout: 8000 });
  const [[dial] = []] = await callUpdates(sid);
  expect(dial?.name).toBe("Dial");
  expect(dial?.attributes.action).toBe(`${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/dial`);
  expect(dial?.children).toEqual([expect.objectContaining({ name: "Number", text: "+14155550123" })]);
  return dial?.attributes ?? {};
}

/**
 * Twilio leaves the stream for the <Dial>, which connects: the call was not over until then, and
 * it ends as transferred with the outcome on the turn's transfer record. Returns the call log.
 */
async function connected(client: MediaStreamClient, sid: string, phone: string) {
  client.stop();
  await new Promise((r) => setTimeout(r, 200));
  expect((await admin("GET", `/admin/calls/${sid}`)).json.call.status).toBe("in_progress");
  const done = await twilioPost("/webhooks/twilio/dial", { CallSid: sid, DialCallStatus: "completed" });
  expect(parseTwiml(done.body).map((v) => v.name)).toEqual(["Hangup"]);
  await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 75));
  const { json } = await admin("GET", `/admin/calls/${sid}`);
  expect(json.call).toMatchObject({ status: "ended", end_reason: "transferred" });
  expect(json.call.turns[0].tools[0]).toMatchObject({
    name: "transfer_call",
    target: { name: "Sales", to: "+14155550123" },
    dial_outcome: "completed",
  });
  return json.call;
}

describe("transfer and end_call over a Media Stream", { timeout: 40_000 }, () => {
  it("transfers by a REST call update once the announcement has played; connected, the call ends as transferred", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please."],
      replies: [
        { content: "Sure.", tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] },
      ],
    });
    const { client, sid, phone } = await streamCall([transfer]);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-1"), { timeout: 8000 });
    // The announcement is on its way but has not played: nothing is changed yet.
    await new Promise((r) => setTimeout(r, 300));
    expect(await callUpdates(sid)).toEqual([]);
    client.echoMarks(["turn-1-0", "turn-1-1"]);
    expect((await dialedSales(sid)).callerId).toBeUndefined();
    await connected(client, sid, phone);
  });

  it("realtime mode: the model's function call, the announcement, then the <Dial> once its mark has come back", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please."],
      realtime: { toolCall: { name: "transfer_call", arguments: '{"target":"Sales"}' } },
    });
    const withCallerId = { ...transfer, targets: [{ ...transfer.targets[0], caller_id: "+1 415 555 0100" }] };
    const { client, sid, phone } = await streamCall([withCallerId], REALTIME);
    const greetingMarks = client.marks().length;
    client.speak(concat(hello(), silence(700)));
    // The function call's output went back, and the model was told to say the announcement.
    await vi.waitFor(
      async () => {
        const items = (await realtimeEvents("conversation.item.create")).map((e) => e.item?.type);
        expect(items).toContain("function_call_output");
        expect(JSON.stringify(await realtimeEvents("response.create"))).toContain("Connecting you now.");
        expect(client.marks().length).toBeGreaterThan(greetingMarks);
      },
      { timeout: 8000 },
    );
    // The announcement has been sent but not played: the call is left as it is.
    await new Promise((r) => setTimeout(r, 300));
    expect(await callUpdates(sid)).toEqual([]);
    // Twilio plays the announcement to its end mark, however many pieces its audio came in.
    await vi.waitFor(
      async () => {
        client.echoMarks(client.marks().slice(greetingMarks));
        expect(await callUpdates(sid)).toHaveLength(1);
      },
      { timeout: 8000, interval: 50 },
    );
    expect((await dialedSales(sid)).callerId).toBe("+14155550100");
    const log = await connected(client, sid, phone);
    expect(log.mode).toBe("realtime");
    expect(log.turns[0]).toMatchObject({ transcript: "Sales, please.", reply: "Connecting you now." });
  });

  it("brings the caller back on a new stream when the target does not answer; the agent says so and goes on", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please.", "What are your hours?"],
      replies: [{ tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] }, "Nine to five."],
    });
    const { client, sid } = await streamCall([transfer]);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-0"), { timeout: 8000 });
    client.echoMarks(["turn-1-0"]);
    await vi.waitFor(async () => expect(await callUpdates(sid)).toHaveLength(1), { timeout: 8000 });
    client.stop();

    const back = await twilioPost("/webhooks/twilio/dial", { CallSid: sid, DialCallStatus: "no-answer" });
    expect(parseTwiml(back.body).map((v) => v.name)).toEqual(["Connect"]);
    const { client: again } = await openStream(back.body, sid);
    const sorry = "Sorry, Sales didn't answer. Is there anything else I can help you with?";
    expect((await spoken()).at(-1)).toBe(sorry);

    again.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(again.marks()).toContain("turn-2-0"), { timeout: 8000 });
    await lastChatEnds(sorry, "What are your hours?");
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call.status).toBe("in_progress");
    expect(json.call.turns[0].tools[0]).toMatchObject({ dial_outcome: "no-answer" });
    again.stop();
  });

  it("keeps the caller with the agent when Twilio refuses the transfer's call update; the agent says so and goes on", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please.", "What are your hours?"],
      replies: [{ tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] }, "Nine to five."],
    });
    const { client, sid } = await streamCall([transfer]);
    await refuseUpdate(sid);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-0"), { timeout: 8000 });
    client.echoMarks(["turn-1-0"]);
    await vi.waitFor(async () => expect((await spoken()).at(-1)).toBe(REFUSED), { timeout: 8000 });
    expect(await callUpdates(sid)).toHaveLength(1);
    // The caller heard it, and talks on the same stream.
    await vi.waitFor(() => expect(client.marks()).toContain("greeting-2"), { timeout: 8000 });
    client.echoMarks(client.marks());
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-2-0"), { timeout: 8000 });
    await lastChatEnds(REFUSED, "What are your hours?");
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call.status).toBe("in_progress");
    // No <Dial> was placed: the transfer's record says so.
    expect(json.call.turns[0].tools[0]).toMatchObject({ name: "transfer_call", dial_outcome: "failed" });
    client.stop();
  });

  it("records no Dial outcome when Twilio's answer to the call update is unreadable (it may have moved the call)", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please."],
      replies: [{ tool_calls: [{ name: "transfer_call", arguments: { target: "Sales" } }] }],
    });
    const { client, sid } = await streamCall([transfer]);
    // A 200 without the call resource: whether Twilio applied the update is unknown.
    await twilio.behave({
      status: 200,
      pathIncludes: `/Calls/${sid}.json`,
      times: 1,
      body: "<html>gateway</html>",
    });
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-0"), { timeout: 8000 });
    client.echoMarks(["turn-1-0"]);
    await vi.waitFor(async () => expect((await spoken()).at(-1)).toBe(REFUSED), { timeout: 8000 });
    const [tool] = (await admin("GET", `/admin/calls/${sid}`)).json.call.turns[0].tools;
    expect(tool).toMatchObject({ name: "transfer_call", target: { name: "Sales" } });
    expect(tool).not.toHaveProperty("dial_outcome");
    client.stop();
  });

  it("realtime mode: a refused call update keeps the caller with the model, which says so", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please."],
      realtime: { toolCall: { name: "transfer_call", arguments: '{"target":"Sales"}' } },
    });
    const { client, sid } = await streamCall([transfer], REALTIME);
    await refuseUpdate(sid);
    let echoed = client.marks().length;
    client.speak(concat(hello(), silence(700)));
    // Twilio plays everything as it comes (each mark echoed), until the model is told what to say.
    await vi.waitFor(
      async () => {
        const marks = client.marks();
        client.echoMarks(marks.slice(echoed));
        echoed = marks.length;
        expect(JSON.stringify(await realtimeEvents("response.create"))).toContain(REFUSED);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await callUpdates(sid)).toHaveLength(1);
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call.status).toBe("in_progress");
    expect(json.call.turns[0].tools[0]).toMatchObject({ name: "transfer_call", dial_outcome: "failed" });
    client.stop();
  });

  it("end_call: the goodbye plays to the end, then the call hangs up with end reason agent_hangup", async () => {
    await openaiScript(openai.url, {
      transcripts: ["That's all, thanks."],
      replies: [{ content: "You're welcome. Goodbye!", tool_calls: [{ name: "end_call", arguments: "{}" }] }],
    });
    const { client, sid, phone } = await streamCall([{ type: "end_call" }]);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-1"), { timeout: 8000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await callUpdates(sid)).toEqual([]);
    client.echoMarks(["turn-1-0", "turn-1-1"]);
    await vi.waitFor(
      async () => expect(await callUpdates(sid)).toEqual([[expect.objectContaining({ name: "Hangup" })]]),
      {
        timeout: 8000,
      },
    );
    client.stop();
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 12));
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call).toMatchObject({ status: "ended", end_reason: "agent_hangup" });
    expect(json.call.turns[0]).toMatchObject({ reply: "You're welcome. Goodbye!" });
  });
});

describe("tool rounds in stream mode", { timeout: 40_000 }, () => {
  it("allows four tool rounds per caller turn; the fifth request must be answered in words", async () => {
    const owner = fakeControl(testEnv.FAKE_OWNER_URL);
    const lookup = {
      type: "webhook",
      name: "lookup_order",
      description: "Look up an order by its number.",
      url: `${owner.url}/lookup`,
      parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
    };
    const again = { tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-1" } }] };
    await openaiScript(openai.url, {
      transcripts: ["Check and check again."],
      // The fifth is scripted as a tool call too: told tool_choice "none", the model answers in words.
      replies: [again, again, again, again, { ...again, content: "It ships today." }],
    });
    const { client, sid } = await streamCall([lookup]);
    client.speak(concat(hello(), silence(600)));
    await vi.waitFor(() => expect(client.marks()).toContain("turn-1-0"), { timeout: 15_000 });
    const chats = (await openai.requests())
      .filter((r) => r.path === "/v1/chat/completions")
      .map((r) => JSON.parse(r.body) as { stream?: boolean; tool_choice?: string; tools?: unknown[] });
    expect(chats).toHaveLength(5);
    expect(chats.every((c) => c.stream === true && c.tools?.length === 1)).toBe(true);
    expect(chats.map((c) => c.tool_choice)).toEqual([undefined, undefined, undefined, undefined, "none"]);
    const posts = (await owner.requests()).filter((r) => r.method === "POST" && !r.path.startsWith("/__"));
    expect(posts).toHaveLength(4);
    const said = (await openai.requests())
      .filter((r) => r.path === "/v1/audio/speech")
      .map((r) => JSON.parse(r.body).input);
    expect(said.at(-1)).toBe("It ships today.");
    client.echoMarks(["turn-1-0"]);
    await vi.waitFor(
      async () => expect((await admin("GET", `/admin/calls/${sid}`)).json.call.turns).toHaveLength(1),
      { timeout: 8000 },
    );
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call.turns[0]).toMatchObject({ outcome: "reply", reply: "It ships today." });
    expect(json.call.turns[0].tools).toHaveLength(4);
    client.stop();
  });
});
