import { fakeControl } from "../test/fakes/client.ts";
import type { RecordedRequest } from "../test/fakes/types.ts";
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
 * providers' and the owner's own time. Turns on a number with one webhook tool (the model calls
 * it, then answers) alternate with turns on a number without tools, in the same run, so both
 * see the same machine. Each turn's overhead is its wall time minus the time the fakes
 * themselves spent serving its requests (recording download, transcription, chat rounds, the
 * owner, speech), as each fake measured it (test/fakes/server.ts `servedMs`: scripted delays
 * plus the timer lateness and work of a loaded Node process). What is left is the Worker's:
 * routing, the call's Durable Object, argument checks, signing, building the second request,
 * the call log, and the loopback transit of each request.
 */

/** The owner service's scripted answer time, ms. */
const OWNER_DELAY_MS = 100;
const REPLY = "It ships today.";

/** One timed webhook: its wall time and the fakes' service time inside it, ms. */
interface TurnSample {
  ms: number;
  fakesMs: number;
  /** requests the fakes served during the turn */
  requests: number;
}

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
  const windows: Array<{ kind: "plain" | "tool"; from: number; to: number; ms: number }> = [];
  const turn = async (kind: "plain" | "tool", call: { callSid: string; record: string }, phone: string) => {
    const from = performance.now();
    const reply = await stack.client.expectOk(
      signedForm(stack.base, call.record, recordingDone(call.callSid, newRecordingSid(), phone)),
    );
    windows.push({ kind, from, to: performance.now(), ms: reply.ms });
    return reply;
  };
  try {
    const calls = { plain: await call(TURNS_PHONE), tools: await call(TOOLS_PHONE) };
    for (let i = 0; i < profile.turns; i++) {
      await script(stack, [REPLY]);
      await turn("plain", calls.plain, TURNS_PHONE);
      await script(stack, [
        { tool_calls: [{ name: "lookup_order", arguments: { order_id: `A-${i}` } }] },
        REPLY,
      ]);
      const b = await turn("tool", calls.tools, TOOLS_PHONE);
      if (!b.body.includes("<Play>"))
        throw new Error(`tool turn ${i + 1} did not answer: ${b.body.slice(0, 200)}`);
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
  // The fakes run in this process: their receivedAt is on this process's performance clock.
  const served = (
    await Promise.all([stack.openai.server, stack.owner, stack.twilio].map((fake) => fakeRequests(fake.url)))
  ).flat();
  const checks = (await (await fetch(`${stack.owner.url}/__owner/checks`)).json()) as Array<{
    valid: boolean;
  }>;
  await stack.openai.reset();
  await owner.reset();
  const samples = (kind: "plain" | "tool"): TurnSample[] =>
    windows.filter((w) => w.kind === kind).map((w) => ({ ms: w.ms, ...fakesWithin(served, w.from, w.to) }));
  const plain = samples("plain");
  const withTool = samples("tool");
  const overhead = (s: TurnSample[]) => summarize(s.map((t) => t.ms - t.fakesMs));
  const owned = overhead(withTool);
  const base = overhead(plain);
  const fakes = {
    plain: summarize(plain.map((t) => t.fakesMs)),
    tool: summarize(withTool.map((t) => t.fakesMs)),
  };
  const scripted = {
    plain: PROVIDER_DELAYS.stt + PROVIDER_DELAYS.llmFirstToken + PROVIDER_DELAYS.tts,
    tool: PROVIDER_DELAYS.stt + 2 * PROVIDER_DELAYS.llmFirstToken + OWNER_DELAY_MS + PROVIDER_DELAYS.tts,
  };
  // Turn i with the tool ran right after plain turn i: their difference saw the same moment's
  // load, so the median of the pairs' differences is steadier than a difference of medians.
  const added = summarize(
    withTool.map((t, i) => {
      const p = plain[i] as TurnSample;
      return t.ms - t.fakesMs - (p.ms - p.fakesMs);
    }),
  );
  return [
    {
      issue: "11",
      measurement:
        "added latency of one webhook tool round in a record→reply turn (turn time − the fakes' own service time; tool turn − the plain turn before it)",
      value: `median ${fmtMs(added.median)} · p99 ${fmtMs(added.p99)}`,
      baseline: `overhead of the same turn without tools: median ${fmtMs(base.median)} · p99 ${fmtMs(base.p99)}; with the tool: median ${fmtMs(owned.median)} · p99 ${fmtMs(owned.p99)}`,
      notes: `${owned.n} turns of each, interleaved (difference of the overheads' medians: ${fmtMs(owned.median - base.median)}); the fakes served ${withTool[0]?.requests ?? 0} requests per tool turn and ${plain[0]?.requests ?? 0} per plain turn, taking median ${fmtMs(fakes.tool.median)} and ${fmtMs(fakes.plain.median)} (scripted delays ${scripted.tool} and ${scripted.plain} ms: the rest is the loaded Node fakes' timer lateness and work); ${checks.filter((c) => c.valid).length}/${checks.length} signatures verified by README's snippet`,
      data: {
        added_ms: added,
        with_tool_overhead_ms: owned,
        without_tools_overhead_ms: base,
        with_tool_wall_ms: summarize(withTool.map((t) => t.ms)),
        without_tools_wall_ms: summarize(plain.map((t) => t.ms)),
        fakes_served_ms: fakes,
        scripted_delays_ms: scripted,
        owner_delay_ms: OWNER_DELAY_MS,
        provider_delays_ms: PROVIDER_DELAYS,
      },
    },
  ];
}

/** Every request a fake's root namespace recorded (the bench Worker's providers point there). */
async function fakeRequests(url: string): Promise<RecordedRequest[]> {
  const response = await fetch(`${url}/__fake/requests`);
  if (!response.ok) throw new Error(`${url}: listing requests answered ${response.status}`);
  return (await response.json()) as RecordedRequest[];
}

/**
 * The fakes' service time within [from, to] (this process's performance clock), ms: the union
 * of the requests' [receivedAt, receivedAt + servedMs] intervals, so requests served side by
 * side count once.
 */
function fakesWithin(requests: readonly RecordedRequest[], from: number, to: number) {
  const spans = requests
    .flatMap((r) =>
      r.receivedAt !== undefined && r.servedMs !== undefined && r.receivedAt >= from && r.receivedAt <= to
        ? [[r.receivedAt, Math.min(to, r.receivedAt + r.servedMs)] as const]
        : [],
    )
    .sort((a, b) => a[0] - b[0]);
  let fakesMs = 0;
  let end = -Infinity;
  for (const [start, stop] of spans) {
    if (stop <= end) continue;
    fakesMs += stop - Math.max(start, end);
    end = stop;
  }
  return { fakesMs, requests: spans.length };
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
