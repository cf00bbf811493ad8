import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startCpuProfile } from "./cpu-profile.ts";
import { opCost } from "./in-worker.ts";
import { LATE_SLACK_MS, SimulatedCall } from "./media-caller.ts";
import { REALTIME_PHONE, STREAM_PHONE } from "./numbers.ts";
import { workerdCpuMs } from "./process-cpu.ts";
import { PROVIDER_DELAY_TOTAL_MS, PROVIDER_DELAYS, type Profile, profileFrom } from "./profile.ts";
import {
  fmtMs,
  loadAverage,
  opData,
  opNotes,
  opValue,
  type Row,
  renderFacts,
  renderTable,
  skippedRow,
} from "./report.ts";
import { STREAM_END_OF_SPEECH_MS, seedRealtimeNumber, seedStreamNumber } from "./seed.ts";
import { speechUtterance, type Utterance } from "./speech.ts";
import { admin, machineFacts, type Stack, startStack } from "./stack.ts";
import { summarize } from "./stats.ts";

/**
 * Issue 4 ("bench:voice"): calls over Media Streams, driven by simulated Twilio callers over
 * real WebSockets: the stream pipeline (src/conversation/pipeline.ts), then, issue 12, the same
 * measurements in realtime mode (src/conversation/realtime.ts against the fake Realtime server). Runs as part of
 * `npm run bench`, or alone: `node bench/voice.ts [--quick]`.
 */

const DELAYS = `stt ${PROVIDER_DELAYS.stt} + llm ${PROVIDER_DELAYS.llmFirstToken} + tts ${PROVIDER_DELAYS.tts} ms`;
/** A reply's first frame must come within this of the end of speech, or the call failed. */
const REPLY_TIMEOUT_MS = 15_000;
/** The agent has finished speaking once it has been quiet (audio played, marks echoed) this long. */
const QUIET_MS = 400;
const AGENT_TIMEOUT_MS = 30_000;

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long the Worker may take to end a level's calls once every caller has hung up. */
const DRAIN_TIMEOUT_MS = 60_000;

export interface Drain {
  /** from the last caller hanging up to the Worker having ended every call (ms) */
  ms: number;
  /** calls the Worker still had open when DRAIN_TIMEOUT_MS ran out (0: drained) */
  open: number;
}

/**
 * Waits until the Worker has ended every call to `phone`: the call log holds none in progress
 * and the fake Realtime server no open socket. Callers hanging up is not enough: a Worker that
 * fell behind still has their frames queued, and the next level (or the next bench section)
 * would be measured against that backlog.
 */
async function drained(stack: Stack, phone: string): Promise<Drain> {
  const started = performance.now();
  for (;;) {
    const listed = await admin(
      stack,
      "GET",
      `/admin/calls?phone_number=${encodeURIComponent(phone)}&limit=200`,
    );
    const calls = (JSON.parse(listed.body) as { calls: { status: string }[] }).calls;
    const open =
      calls.filter((c) => c.status !== "ended").length + (await stack.openai.openRealtimeSockets());
    const ms = performance.now() - started;
    if (open === 0 || ms > DRAIN_TIMEOUT_MS) {
      await stack.openai.forgetRequests();
      return { ms, open };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The caller says the utterance; returns what the Worker added between the detector's end of
 * speech (the frame that completes end_of_speech_ms of silence leaving Node) and the reply's
 * first frame arriving, beyond the providers' fixed delays.
 */
async function speakAndTime(call: SimulatedCall, utterance: Utterance): Promise<number> {
  const replyStarts = call.nextAgentUtterance();
  const first = call.say(utterance.frames);
  const endOfSpeechSent = await call.sentAt(first + utterance.endFrame);
  const replyAt = await within(replyStarts, REPLY_TIMEOUT_MS, `${call.callSid}: reply`);
  await call.agentDone(QUIET_MS, AGENT_TIMEOUT_MS);
  return replyAt - endOfSpeechSent - PROVIDER_DELAY_TOTAL_MS;
}

async function answered(stack: Stack, phone = STREAM_PHONE): Promise<SimulatedCall> {
  const call = await SimulatedCall.dial(stack.client, stack.base, phone);
  try {
    await within(call.greeting, REPLY_TIMEOUT_MS, `${call.callSid}: greeting`);
    await call.agentDone(QUIET_MS, AGENT_TIMEOUT_MS);
  } catch (err) {
    call.hangUp();
    throw err;
  }
  return call;
}

/** One call saying the utterance `times` times; the added latency of each. */
async function conversation(stack: Stack, utterance: Utterance, times: number): Promise<number[]> {
  const call = await answered(stack);
  try {
    const added: number[] = [];
    for (let i = 0; i < times; i++) added.push(await speakAndTime(call, utterance));
    return added;
  } finally {
    call.hangUp();
  }
}

interface LevelResult {
  calls: number;
  failed: number;
  firstFailure?: string;
  lateFrames: number;
  worstGapMs: number;
  senderLagMs: number;
  /** p99 delay of Node's own event loop meanwhile: above a frame, the simulated callers are the bottleneck */
  nodeLoopP99Ms: number;
  addedMs: number[];
  /** the Worker ending the level's calls after the callers hung up */
  drain: Drain;
  /** calls whose realtime engine failed and went on with the pipeline (`engine_fallback`): not held in realtime */
  fallbacks: number;
  /** CPU the workerd processes used per second of call (ms/s), calls and drain included; null off Linux */
  workerCpuMsPerCallSecond: number | null;
  /** CPU this Node process (callers and fakes) used per second of call (ms/s) */
  nodeCpuMsPerCallSecond: number;
}

/** `calls` simultaneous calls (started within a second), each greeted, then saying the utterance once. */
async function level(
  stack: Stack,
  utterance: Utterance,
  calls: number,
  phone = STREAM_PHONE,
  replyLatency: (call: SimulatedCall, utterance: Utterance) => Promise<number> = speakAndTime,
): Promise<LevelResult> {
  const result: LevelResult = {
    calls,
    failed: 0,
    lateFrames: 0,
    worstGapMs: 0,
    senderLagMs: 0,
    nodeLoopP99Ms: 0,
    addedMs: [],
    drain: { ms: 0, open: 0 },
    fallbacks: 0,
    workerCpuMsPerCallSecond: null,
    nodeCpuMsPerCallSecond: 0,
  };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const workerCpuBefore = workerdCpuMs();
  const fallbacksBefore = stack.logs.count("engine_fallback");
  const nodeCpuBefore = process.cpuUsage();
  let callMs = 0;
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i * 1000) / calls));
      let call: SimulatedCall | undefined;
      const dialled = performance.now();
      try {
        call = await answered(stack, phone);
        result.addedMs.push(await replyLatency(call, utterance));
      } catch (err) {
        result.failed += 1;
        result.firstFailure ??= err instanceof Error ? err.message : String(err);
      } finally {
        if (call) {
          call.hangUp();
          result.lateFrames += call.stats.lateFrames;
          result.worstGapMs = Math.max(result.worstGapMs, call.stats.worstGapMs);
          result.senderLagMs = Math.max(result.senderLagMs, call.stats.senderLagMs);
        }
        callMs += performance.now() - dialled;
      }
    }),
  );
  loop.disable();
  result.nodeLoopP99Ms = loop.percentile(99) / 1e6;
  result.drain = await drained(stack, phone);
  result.fallbacks = stack.logs.count("engine_fallback") - fallbacksBefore;
  const workerCpuAfter = workerdCpuMs();
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const callSeconds = callMs / 1000;
  if (workerCpuBefore !== null && workerCpuAfter !== null)
    result.workerCpuMsPerCallSecond = (workerCpuAfter - workerCpuBefore) / callSeconds;
  result.nodeCpuMsPerCallSecond = (nodeCpu.user + nodeCpu.system) / 1000 / callSeconds;
  return result;
}

const LATE_DEFINITION = `late frame: an agent frame arriving >${LATE_SLACK_MS} ms after the audio sent before it had finished playing at real time (an audible gap mid-reply)`;

/** "20 ok 137 ms" or "40 219 late frames (worst gap 338 ms) 983 ms": the level, its outcome, its median added latency. */
function describeLevel(r: LevelResult): string {
  const problems = [
    r.lateFrames > 0 && `${r.lateFrames} late frames (worst gap ${fmtMs(r.worstGapMs)})`,
    r.failed > 0 && `${r.failed} calls failed (${r.firstFailure})`,
    r.fallbacks > 0 && `${r.fallbacks} calls fell back to the pipeline`,
    r.drain.open > 0 &&
      `${r.drain.open} calls still open on the Worker ${fmtMs(r.drain.ms)} after the callers hung up`,
  ].filter(Boolean);
  const latency = r.addedMs.length ? ` ${fmtMs(summarize(r.addedMs).median)}` : "";
  return `${r.calls} ${problems.length ? problems.join(", ") : "ok"}${latency}`;
}

/**
 * A level every call of which was answered with no late frame by its own engine (a realtime
 * call that fell back to the pipeline answered, but not in realtime), and which the Worker ended.
 */
const clean = (r: LevelResult) =>
  r.failed === 0 && r.lateFrames === 0 && r.drain.open === 0 && r.fallbacks === 0;

/** "Worker CPU 12.3 ms per call-second (Node 4.5)" over the ramp's levels. */
function cpuNote(results: LevelResult[]): string {
  const worker = results.map((r) => r.workerCpuMsPerCallSecond).filter((v): v is number => v !== null);
  const node = results.map((r) => r.nodeCpuMsPerCallSecond);
  const range = (values: number[]) =>
    `${Math.min(...values).toFixed(1)} to ${Math.max(...values).toFixed(1)}`;
  return `${worker.length ? `workerd CPU per call-second ${range(worker)} ms, ` : ""}Node's (callers and fakes) ${range(node)} ms`;
}

async function capacityRow(
  stack: Stack,
  profile: Profile,
  utterance: Utterance,
  engine: { issue: string; phone: string; name: string; replyLatency?: typeof speakAndTime } = {
    issue: "4",
    phone: STREAM_PHONE,
    name: "pipeline",
  },
): Promise<Row> {
  const results: LevelResult[] = [];
  for (const calls of profile.voice.levels) {
    const profiling = calls === profile.voice.cpuProfileLevel && stack.inspectorUrl;
    const profiler = profiling ? await startCpuProfile(profiling) : null;
    const result = await level(stack, utterance, calls, engine.phone, engine.replyLatency);
    if (profiler) {
      const file = fileURLToPath(
        new URL(`./results/cpu-${engine.name}-${calls}.cpuprofile`, import.meta.url),
      );
      const hot = await profiler.stop(file);
      console.log(`CPU profile of the Worker, ${engine.name} at ${calls} calls: ${file}`);
      for (const f of hot)
        console.log(
          `  ${f.selfMs.toFixed(0).padStart(7)} ms ${f.percent.toFixed(1).padStart(5)}%  ${f.name}`,
        );
    }
    results.push(result);
    if (!clean(result)) break;
  }
  const held = results.filter(clean).at(-1);
  const last = results.at(-1);
  const ended = last && !clean(last) ? "" : " (ramp's last level)";
  return {
    issue: engine.issue,
    measurement: `simultaneous calls one local workerd holds with no late frame (${engine.name})`,
    value: held ? `${held.calls} calls${ended}` : `fewer than ${profile.voice.levels[0]} calls`,
    baseline: "",
    notes: `ramp (calls, outcome, median added latency): ${results.map(describeLevel).join("; ")}. ${LATE_DEFINITION}. Each call: greeting, one utterance, the reply; calls start within 1 s; each level starts once the Worker has ended the last one's calls (longest wait ${fmtMs(Math.max(...results.map((r) => r.drain.ms)))}); Node's event-loop p99 ≤ ${fmtMs(Math.max(...results.map((r) => r.nodeLoopP99Ms)))}; ${cpuNote(results)}`,
    data: {
      levels: results.map((r) => ({ ...r, addedMs: r.addedMs.length ? summarize(r.addedMs) : null })),
      late_slack_ms: LATE_SLACK_MS,
    },
  };
}

/** The fake Realtime server's own delay, from `speech_stopped` to the answer's first audio delta. */
const REALTIME_FIRST_AUDIO_MS = 300;

/** One realtime turn: what the Worker added, and what the fake really waited before its first delta (ms). */
interface RealtimeTiming {
  addedMs: number;
  fakeWaitMs: number;
}

/**
 * Realtime mode: the caller says the utterance. The added latency is from the fake's
 * `speech_stopped` leaving it to the answer's first frame reaching the caller, minus what the
 * fake itself took before its first audio delta left (measured, not the nominal
 * REALTIME_FIRST_AUDIO_MS: Node's timer overshoots, and the fake builds the answer's audio
 * meanwhile): that is, from the first delta leaving the fake to the first frame arriving, both
 * on this process's clock. One call at a time, so the last utterance the fake ended is this call's.
 */
async function realtimeSpeakAndTime(
  stack: Stack,
  call: SimulatedCall,
  utterance: Utterance,
): Promise<RealtimeTiming> {
  const before = (await stack.openai.realtimeTurns()).length;
  let replyStarts = call.nextAgentUtterance();
  call.say(utterance.frames);
  for (;;) {
    const replyAt = await within(replyStarts, REPLY_TIMEOUT_MS, `${call.callSid}: reply`);
    const turn = (await stack.openai.realtimeTurns())[before];
    if (turn?.first_audio_at !== undefined && replyAt > turn.first_audio_at) {
      await call.agentDone(QUIET_MS, AGENT_TIMEOUT_MS);
      return {
        addedMs: replyAt - turn.first_audio_at,
        fakeWaitMs: turn.first_audio_at - turn.speech_stopped_at,
      };
    }
    // Audio from before this utterance ended (the tail of an earlier answer): not the answer.
    replyStarts = call.nextAgentUtterance();
  }
}

/**
 * The runtime's own WebSocket round trip: a text message from Node to an echo socket on the
 * bench Worker (/__bench/echo, through wrangler's proxy as the callers' sockets go) and back,
 * one at a time. What relaying a realtime answer costs at the least, since it crosses the same
 * kind of hops.
 */
async function echoRoundTrip(stack: Stack, count = 50): Promise<ReturnType<typeof summarize>> {
  const socket = new WebSocket(`${stack.base.replace(/^http/, "ws")}/__bench/echo`, {
    perMessageDeflate: false,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", (err) => reject(new Error("the bench echo socket did not open", { cause: err })));
  });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const sent = performance.now();
      const back = new Promise<void>((resolve) => socket.once("message", () => resolve()));
      socket.send(`{"event":"media","n":${i}}`);
      await within(back, REPLY_TIMEOUT_MS, "bench echo");
      times.push(performance.now() - sent);
    }
  } finally {
    socket.close();
  }
  return summarize(times);
}

/** Capacity ramp latency for realtime calls (many at once): end of speech → first frame, minus the fake's VAD wait and delay. */
async function realtimeRampLatency(call: SimulatedCall, utterance: Utterance): Promise<number> {
  const replyStarts = call.nextAgentUtterance();
  const first = call.say(utterance.frames);
  const endOfSpeechSent = await call.sentAt(first + utterance.endFrame);
  const replyAt = await within(replyStarts, REPLY_TIMEOUT_MS, `${call.callSid}: reply`);
  await call.agentDone(QUIET_MS, AGENT_TIMEOUT_MS);
  return replyAt - endOfSpeechSent - REALTIME_FIRST_AUDIO_MS;
}

/**
 * Issue 12: the same calls in conversation_mode "realtime" (speech to speech over the fake
 * Realtime server), measured in the same run as the pipeline rows beside them.
 */
async function realtimeRows(stack: Stack, profile: Profile, utterance: Utterance): Promise<Row[]> {
  await seedRealtimeNumber(stack);
  await stack.openai.setRealtime({ firstAudioDelayMs: REALTIME_FIRST_AUDIO_MS });
  const measurements = [
    "added latency, speech_stopped → first reply frame (realtime)",
    "per relayed 20 ms frame, in and out (realtime)",
    "simultaneous calls one local workerd holds with no late frame (realtime)",
  ];
  const timings: RealtimeTiming[] = [];
  try {
    for (let c = 0; c < profile.voice.latencyCalls; c++) {
      const call = await answered(stack, REALTIME_PHONE);
      try {
        for (let i = 0; i < profile.voice.utterancesPerCall; i++) {
          timings.push(await realtimeSpeakAndTime(stack, call, utterance));
        }
      } finally {
        call.hangUp();
      }
    }
    await drained(stack, REALTIME_PHONE);
  } catch (err) {
    const worker = stack.logs
      .problems()
      .filter((p) => /realtime|engine_fallback/.test(p.summary))
      .map((p) => `${p.summary}: ${p.example}`);
    const reason = `realtime engine not usable: ${err instanceof Error ? err.message : String(err)}${worker.length ? `; the Worker logged ${worker.join("; ")}` : ""}`;
    return measurements.map((m) => skippedRow("12", m, reason));
  }
  const latency = summarize(timings.map((t) => t.addedMs));
  const fakeWait = summarize(timings.map((t) => t.fakeWaitMs));
  const echo = await echoRoundTrip(stack);
  const frames = await opCost(stack.client, { op: "realtime-frames", ...profile.op, maxN: 500_000 });
  const capacity = await capacityRow(stack, profile, utterance, {
    issue: "12",
    phone: REALTIME_PHONE,
    name: "realtime",
    replyLatency: realtimeRampLatency,
  });
  return [
    {
      issue: "12",
      measurement: measurements[0] as string,
      value: `median ${fmtMs(latency.median)} · p99 ${fmtMs(latency.p99)}`,
      baseline: `WebSocket echo through the same runtime: median ${fmtMs(echo.median)}; goal median < 5 ms`,
      notes: `${latency.n} utterances, one call at a time; from the fake Realtime server sending speech_stopped to the answer's first frame reaching the simulated Twilio caller (both on this process's clock), minus what the fake really waited before its first audio delta left (median ${fmtMs(fakeWait.median)} for a nominal ${REALTIME_FIRST_AUDIO_MS} ms, subtracted): the Worker and both WebSocket hops. Baseline: a message's round trip Node → workerd → Node through an echo socket on the bench Worker (wrangler's proxy included, as on the caller's side), ${echo.n} one at a time`,
      data: {
        added_ms: latency,
        fake_wait_ms: fakeWait,
        fake_first_audio_ms: REALTIME_FIRST_AUDIO_MS,
        echo_round_trip_ms: echo,
      },
    },
    {
      issue: "12",
      measurement: measurements[1] as string,
      value: opValue(frames),
      baseline: "20 ms of audio each way; goal < 10 µs",
      notes: `Twilio JSON in → input_audio_buffer.append out, and a response.output_audio.delta in → Twilio media + mark out; μ-law untouched (no decode, no resampling); excludes the runtime's WebSocket dispatch; ${opNotes(frames)}`,
      data: opData(frames),
    },
    capacity,
  ];
}

export async function voiceRows(stack: Stack, profile: Profile): Promise<Row[]> {
  const utterance = speechUtterance(STREAM_END_OF_SPEECH_MS);
  await seedStreamNumber(stack);
  await stack.openai.setDelays(PROVIDER_DELAYS);
  try {
    const { engines } = profile.voice;
    return [
      ...(engines.includes("pipeline") ? await pipelineRows(stack, profile, utterance) : []),
      ...(engines.includes("realtime") ? await realtimeRows(stack, profile, utterance) : []),
    ];
  } finally {
    await stack.openai.reset();
  }
}

/** Issue 4: the stream pipeline's rows. */
async function pipelineRows(stack: Stack, profile: Profile, utterance: Utterance): Promise<Row[]> {
  const measurements = ["end of speech → first reply frame", "per inbound frame", "simultaneous calls"];
  const { latencyCalls, utterancesPerCall } = profile.voice;
  let added: ReturnType<typeof summarize>;
  try {
    // A first call synthesises and caches the greeting; it also proves the engine is there.
    await conversation(stack, utterance, 1);
    added = summarize(
      (
        await Promise.all(
          Array.from({ length: latencyCalls }, () => conversation(stack, utterance, utterancesPerCall)),
        )
      ).flat(),
    );
    await drained(stack, STREAM_PHONE);
  } catch (err) {
    const reason = `pipeline engine not usable: ${err instanceof Error ? err.message : String(err)}`;
    return measurements.map((m) => skippedRow("4", m, reason));
  }
  const frames = await opCost(stack.client, { op: "stream-frames", ...profile.op, maxN: 500_000 });
  const capacity = await capacityRow(stack, profile, utterance);
  return [
    {
      issue: "4",
      measurement: "added latency, end of speech → first reply frame",
      value: `median ${fmtMs(added.median)} · p99 ${fmtMs(added.p99)}`,
      baseline: `end_of_speech_ms ${STREAM_END_OF_SPEECH_MS} + ${DELAYS}`,
      notes: `${added.n} utterances over ${latencyCalls} simultaneous calls; from the frame completing ${STREAM_END_OF_SPEECH_MS} ms of silence after the detector's end of speech leaving Node, to the first reply frame arriving, minus the provider delays`,
      data: {
        added_ms: added,
        end_of_speech_ms: STREAM_END_OF_SPEECH_MS,
        provider_delays_ms: PROVIDER_DELAYS,
        speech_end_in_fixture_ms: utterance.speechEndMs,
      },
    },
    {
      issue: "4",
      measurement: "per inbound frame (parse Twilio JSON + μ-law decode + VAD + capture)",
      value: opValue(frames),
      baseline: "20 ms of audio per frame",
      notes: `${((frames.perOpUs.median / 20_000) * 100).toFixed(3)}% of real time; speech fixture + 1 s silence, looped; excludes the runtime's WebSocket dispatch; ${opNotes(frames)}`,
      data: opData(frames),
    },
    capacity,
  ];
}

if (import.meta.main) {
  const profile = profileFrom(process.argv.slice(2));
  const startLoad = loadAverage();
  const stack = await startStack({ inspector: profile.voice.cpuProfileLevel !== undefined });
  try {
    const rows = await voiceRows(stack, profile);
    console.log(renderTable(rows));
    console.log(renderFacts(machineFacts(), { start: startLoad, end: loadAverage() }));
    const problems = stack.logs.problems();
    console.log(
      `worker warnings/errors during the run: ${problems.length ? problems.map((p) => `${p.summary}\n  ${p.example}`).join("\n") : "none"}`,
    );
  } finally {
    await stack.close();
  }
}
