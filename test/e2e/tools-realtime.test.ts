import { beforeEach, describe, expect, it, vi } from "vitest";
import { fakeControl } from "../fakes/client.ts";
import { openaiScript } from "../fakes/openai-client.ts";
import { admin, sampleBody, uniquePhone } from "../support/admin.ts";
import { testEnv } from "../support/env.ts";
import { MediaStreamClient } from "../support/media-stream-client.ts";
import { callEnded, callSid, incomingCall, twilioPost } from "../support/twilio.ts";
import { parseTwiml } from "../support/twiml.ts";
import { concat, fixtureSamples } from "../unit/audio/signals.ts";

/**
 * A transfer in conversation_mode "realtime", as a whole call: the fake Realtime server answers
 * the caller with a transfer_call function call, the model then says the announcement, and only
 * once Twilio has played it (its mark came back) is the live call updated through Twilio's REST
 * API with the <Dial>.
 */
const openai = fakeControl(testEnv.FAKE_OPENAI_URL, null);
const twilio = fakeControl(testEnv.FAKE_TWILIO_URL, null);
beforeEach(async () => {
  await Promise.all([openai.reset(), twilio.reset()]);
});

const silence = (ms: number) => new Int16Array(8 * ms);

const callUpdates = async (sid: string) =>
  (await twilio.requests())
    .filter((r) => r.path.endsWith(`/Calls/${sid}.json`))
    .map((r) => new URLSearchParams(r.body).get("Twiml") ?? "");

const wsEvents = async (type: string) =>
  (await openai.requests())
    .filter((r) => r.method === "WS")
    .map((r) => JSON.parse(r.body) as { type: string } & Record<string, unknown>)
    .filter((e) => e.type === type);

describe("transfer in realtime mode", { timeout: 40_000 }, () => {
  it("says the announcement, then updates the live call with <Dial> once its mark has come back", async () => {
    await openaiScript(openai.url, {
      transcripts: ["Sales, please."],
      realtime: { toolCall: { name: "transfer_call", arguments: '{"target":"Sales"}' } },
    });
    const phone = uniquePhone();
    const created = await admin("POST", "/admin/phone-config", {
      body: sampleBody(phone, {
        conversation_mode: "realtime",
        inference_model: "gpt-realtime",
        tts_voice: "coral",
        end_of_speech_ms: 300,
        enable_recording: false,
        tools: [
          {
            type: "transfer",
            targets: [{ name: "Sales", to: "+1 415 555 0123", caller_id: "+1 415 555 0100" }],
          },
        ],
      }),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const sid = callSid();
    const answer = await twilioPost("/webhooks/twilio/voice", incomingCall(sid, phone));
    const stream = parseTwiml(answer.body)[0]?.children[0];
    const token = stream?.children.find((p) => p.attributes.name === "token")?.attributes.value ?? "";
    const { client } = await MediaStreamClient.connect(stream?.attributes.url ?? "", sid);
    if (!client) throw new Error("the stream was refused");
    client.start({ token });
    await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(0), { timeout: 5000 });
    client.echoMarks(client.marks());

    client.speak(concat(fixtureSamples("hello"), silence(700)));
    // The function call's output went back, and the model was told to say the announcement.
    await vi.waitFor(
      async () => {
        const outputs = await wsEvents("conversation.item.create");
        expect(outputs.map((e) => (e.item as { type: string }).type)).toContain("function_call_output");
        expect(JSON.stringify(await wsEvents("response.create"))).toContain("Connecting you now.");
      },
      { timeout: 8000 },
    );
    const greetingMarks = client.marks().length;
    await vi.waitFor(() => expect(client.marks().length).toBeGreaterThan(greetingMarks), { timeout: 8000 });
    // The announcement has been sent but not played: the call is left as it is.
    await new Promise((r) => setTimeout(r, 300));
    expect(await callUpdates(sid)).toEqual([]);

    client.echoMarks(client.marks().slice(greetingMarks));
    await vi.waitFor(async () => expect(await callUpdates(sid)).toHaveLength(1), { timeout: 8000 });
    const [twiml = ""] = await callUpdates(sid);
    const [dial] = parseTwiml(twiml);
    expect(dial?.name).toBe("Dial");
    expect(dial?.attributes).toMatchObject({
      action: `${testEnv.PUBLIC_BASE_URL}/webhooks/twilio/dial`,
      callerId: "+14155550100",
    });
    expect(dial?.children).toEqual([expect.objectContaining({ name: "Number", text: "+14155550123" })]);
    // Twilio leaves the Media Stream for the <Dial>: the call goes on.
    client.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect((await admin("GET", `/admin/calls/${sid}`)).json.call.status).toBe("in_progress");

    const done = await twilioPost("/webhooks/twilio/dial", { CallSid: sid, DialCallStatus: "completed" });
    expect(parseTwiml(done.body).map((v) => v.name)).toEqual(["Hangup"]);
    await twilioPost("/webhooks/twilio/status", callEnded(sid, phone, 40));
    const { json } = await admin("GET", `/admin/calls/${sid}`);
    expect(json.call).toMatchObject({ status: "ended", end_reason: "transferred", mode: "realtime" });
    expect(json.call.turns[0]).toMatchObject({ transcript: "Sales, please.", reply: "Connecting you now." });
    expect(json.call.turns[0].tools[0]).toMatchObject({
      name: "transfer_call",
      target: { name: "Sales", to: "+14155550123" },
      dial_outcome: "completed",
    });
  });
});
