import { fakeControl } from "../test/fakes/client.ts";
import { TOOLS_PHONE, TURNS_PHONE } from "./numbers.ts";
import { PROVIDER_DELAYS, type Profile } from "./profile.ts";
import { fmtMs, type Row } from "./report.ts";
import { seedNumber } from "./seed.ts";
import type { Stack } from "./stack.ts";
import { summarize } from "./stats.ts";
import {
  callEnded,
  incomingCall,
  newCallSid,
  newRecordingSid,
  recordActionPath,
  recordingDone,
  signedForm,
} from "./twilio-client.ts";

/**
 * Issue 11 (tools): what one webhook tool round adds to a record→reply turn beyond the
 * providers' and the owner's own delays. Turns on a number with one webhook tool (the model
 * calls it, then answers) alternate with turns on a number without tools, in the same run, so
 * both see the same machine; each turn's time minus its fixed delays is its overhead.
 */

/** The owner service's fixed answer time, ms. */
const OWNER_DELAY_MS = 100;
const REPLY = "It ships today.";

export async function toolRows(stack: Stack, profile: Profile): Promise<Row[]> {
  const owner = fakeControl(stack.owner.url, null);
  await owner.reset();
  await seedNumber(stack, TOOLS_PHONE, {
    tools: [
      {
        type: "webhook",
        name: "lookup_order",
        description: "Look up an order by its number.",
        url: `${stack.owner.url}/orders/lookup`,
        parameters: { type: "object", properties: { order_id: { type: "string" } }, required: ["order_id"] },
      },
    ],
  });
  await stack.openai.setDelays(PROVIDER_DELAYS);
  await owner.behave({ delayMs: OWNER_DELAY_MS });
  const call = async (phone: string) => {
    const callSid = newCallSid();
    const answer = await stack.client.expectOk(
      signedForm(stack.base, "/webhooks/twilio/voice", incomingCall(callSid, phone)),
    );
    // Recordings go to the answer's <Record action>: its signed snapshot creates the session.
    return { callSid, record: recordActionPath(answer.body) };
  };
  const plain: number[] = [];
  const withTool: number[] = [];
  const { stt, llmFirstToken, tts } = PROVIDER_DELAYS;
  try {
    const calls = { plain: await call(TURNS_PHONE), tools: await call(TOOLS_PHONE) };
    for (let turn = 0; turn < profile.turns; turn++) {
      await script(stack, [REPLY]);
      const a = await stack.client.expectOk(
        signedForm(
          stack.base,
          calls.plain.record,
          recordingDone(calls.plain.callSid, newRecordingSid(), TURNS_PHONE),
        ),
      );
      plain.push(a.ms - (stt + llmFirstToken + tts));
      await script(stack, [
        { tool_calls: [{ name: "lookup_order", arguments: { order_id: `A-${turn}` } }] },
        REPLY,
      ]);
      const b = await stack.client.expectOk(
        signedForm(
          stack.base,
          calls.tools.record,
          recordingDone(calls.tools.callSid, newRecordingSid(), TOOLS_PHONE),
        ),
      );
      if (!b.body.includes("<Play>"))
        throw new Error(`tool turn ${turn + 1} did not answer: ${b.body.slice(0, 200)}`);
      withTool.push(b.ms - (stt + 2 * llmFirstToken + OWNER_DELAY_MS + tts));
    }
    for (const [phone, callSid] of [
      [TURNS_PHONE, calls.plain.callSid],
      [TOOLS_PHONE, calls.tools.callSid],
    ] as const) {
      await stack.client.expectOk(
        signedForm(stack.base, "/webhooks/twilio/status", callEnded(callSid, phone)),
      );
    }
  } catch (err) {
    await stack.openai.reset();
    throw err;
  }
  const checks = (await (await fetch(`${stack.owner.url}/__owner/checks`)).json()) as Array<{
    valid: boolean;
  }>;
  // What the fakes themselves spend on the extra requests (a chat completion, the owner's answer).
  const fakesMs = await extraFakesMs(stack);
  await stack.openai.reset();
  await owner.reset();
  const owned = summarize(withTool);
  const base = summarize(plain);
  const worker = owned.median - base.median - fakesMs;
  return [
    {
      issue: "11",
      measurement:
        "added latency per record→reply turn with one webhook tool round (turn time − provider and owner delays)",
      value: `median ${fmtMs(owned.median)} · p99 ${fmtMs(owned.p99)}`,
      baseline: `same turn without tools: median ${fmtMs(base.median)} · p99 ${fmtMs(base.p99)}`,
      notes: `${owned.n} turns of each, interleaved; delays stt ${stt} + 2 × llm ${llmFirstToken} + owner ${OWNER_DELAY_MS} + tts ${tts} ms; the tool round adds ${fmtMs(owned.median - base.median)} at the median, of which the fakes' own service of the extra chat request and owner request is ≈${fmtMs(fakesMs)} (measured directly), leaving ≈${fmtMs(worker)} for the Worker (argument check, signing, a second model round); ${checks.filter((c) => c.valid).length}/${checks.length} signatures verified by README's snippet`,
      data: {
        with_tool_ms: owned,
        without_tools_ms: base,
        fakes_extra_ms: fakesMs,
        worker_added_ms: worker,
        owner_delay_ms: OWNER_DELAY_MS,
        provider_delays_ms: PROVIDER_DELAYS,
      },
    },
  ];
}

/** One chat completion and one owner request straight from Node, minus the owner's fixed delay (median ms). */
async function extraFakesMs(stack: Stack): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const chat = await fetch(`${stack.openai.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: "Bearer sk-bench", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] }),
    });
    await chat.arrayBuffer();
    const owned = await fetch(`${stack.owner.url}/orders/lookup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tool: "lookup_order", arguments: { order_id: "A-1" } }),
    });
    await owned.arrayBuffer();
    samples.push(performance.now() - started - OWNER_DELAY_MS - PROVIDER_DELAYS.llmFirstToken);
  }
  return summarize(samples).median;
}

async function script(stack: Stack, replies: unknown[]): Promise<void> {
  const response = await fetch(`${stack.openai.server.url}/__openai/script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ replies }),
  });
  if (!response.ok) throw new Error(`OpenAI fake refused the script: ${response.status}`);
  await response.body?.cancel();
}
