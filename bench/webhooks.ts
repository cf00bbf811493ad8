import type { Reply, RequestSpec } from "./http.ts";
import { opCost } from "./in-worker.ts";
import { type AlternateSide, alternateLoads, type LoadResult, runLoad } from "./load.ts";
import { TURNS_PHONE } from "./numbers.ts";
import { PROVIDER_DELAY_TOTAL_MS, PROVIDER_DELAYS, type Profile } from "./profile.ts";
import {
  fmtMs,
  fmtRatio,
  loadData,
  loadRatio,
  loadValue,
  opData,
  opNotes,
  opValue,
  type Row,
} from "./report.ts";
import type { Stack } from "./stack.ts";
import { median, ratioInterval, summarize } from "./stats.ts";
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  callEnded,
  incomingCall,
  newCallSid,
  newRecordingSid,
  recordActionPath,
  recordingDone,
  signedForm,
} from "./twilio-client.ts";

/**
 * Issue 3 (record→reply calls): the incoming-call webhook's throughput with the number's
 * config and greeting audio cached, the per-call cost of its two pure steps (signature check,
 * TwiML), and what the Worker adds to each turn beyond the providers' own time.
 */

const SPEECH = "/v1/audio/speech";
const TURNS_PER_CALL = 5;
/** workerd's CPU per answered request, "1.52 ms" ("n/a" where /proc is missing). */
const cpuPerRequest = (side: AlternateSide) =>
  side.workerdCpuMsPerRequest === null ? "n/a" : fmtMs(side.workerdCpuMsPerRequest);

/** The throughput CPU time alone allows, as a ratio: floor's CPU per request over the route's. */
const cpuRatio = (floor: AlternateSide, route: AlternateSide) =>
  floor.workerdCpuMsPerRequest === null || route.workerdCpuMsPerRequest === null
    ? "n/a"
    : `${fmtRatio(floor.workerdCpuMsPerRequest / route.workerdCpuMsPerRequest)} by CPU`;

/** How long each side of the incoming-call comparison runs untimed before its windows (ms). */
const steadyStateMs = (profile: Profile) => (profile.quick ? 300 : 3000);
/**
 * Windows per side when the incoming-call webhook and its floor are measured in turn. With 8
 * rounds (500 ms untimed each), one round's ratio strayed by 13–19% on this shared machine (the
 * standard deviation of its logarithm), so two standard errors were ±9–13%, and full runs gave
 * 0.80× to 0.87×. With 24, for about 2.5 minutes more, the first four runs strayed 8.5–15% a
 * round and two standard errors were ±3.5–6% (±5.5–8% at the earlier spread).
 */
const LOAD_ROUNDS = 24;
/**
 * Untimed start of each window taken in turn (ms): each side has already run at steady state,
 * so this only lets the 16 connections fill again after the previous side's window drained them.
 */
const windowWarmupMs = (profile: Profile) => (profile.quick ? 100 : 200);

/**
 * The route's throughput over the floor's, round by round (each pair of windows taken within
 * seconds of each other): how far one window's ratio strays from the pooled one on this machine.
 */
function roundRatios(floor: AlternateSide, route: AlternateSide): number[] {
  return route.roundsPerSecond.map((perSecond, i) => perSecond / (floor.roundsPerSecond[i] as number));
}

/** "per round: median 0.83×, 0.71× to 0.95×; ±2 standard errors: 0.80× to 0.90×" */
function roundSpread(ratios: number[], interval: [number, number]): string {
  return `per round: median ${fmtRatio(median(ratios))}, ${fmtRatio(Math.min(...ratios))} to ${fmtRatio(Math.max(...ratios))}; ±2 standard errors: ${fmtRatio(interval[0])} to ${fmtRatio(interval[1])}`;
}

function answersWithPlay(body: string): string | null {
  // <Say> instead of <Play> means the greeting or reply fell back to Twilio's voice: a failure here.
  return body.includes("<Play>") ? null : `no <Play> in the TwiML: ${body.slice(0, 200)}`;
}

/**
 * Incoming calls, each a new CallSid, and Twilio retrying one call (same CallSid). The answer
 * creates no CallSession: it carries a signed snapshot from which the Media Stream's start or
 * the first recording webhook creates it (measured with the turns below, not here).
 */
async function incomingCallLoads(
  stack: Stack,
  profile: Profile,
): Promise<{
  calls: AlternateSide;
  retries: LoadResult;
  sameRequestFloor: AlternateSide;
  answeredFloor: AlternateSide;
}> {
  const voice = (callSid: string) =>
    signedForm(stack.base, "/webhooks/twilio/voice", incomingCall(callSid, TURNS_PHONE));
  // The first call synthesises the greeting and caches it; the timed calls must all hit that cache.
  const retried = newCallSid();
  const first = await stack.client.expectOk(voice(retried));
  const problem = answersWithPlay(first.body);
  if (problem) throw new Error(`warm-up call: ${problem}`);
  const synthesisedBefore = (await stack.openai.requests(SPEECH)).length;
  const options = (next: () => RequestSpec) => ({
    client: stack.client,
    ...profile.load,
    next,
    check: (reply: Reply) => answersWithPlay(reply.body),
  });
  // The empty route sent the webhook's own request: what carrying it costs the runtime and
  // wrangler's proxy (a signed form of 9 fields, about 230 bytes), before the Worker does
  // anything with it.
  const floorLoad = {
    ...options(() => ({ ...voice(newCallSid()), path: "/__bench/empty" })),
    check: undefined,
  };
  // The empty route again, now reading the request and answering as many bytes as the TwiML:
  // what carrying an answer costs the runtime and the proxy, with no work between.
  const answeredLoad = {
    ...options(() => ({ ...voice(newCallSid()), path: `/__bench/answered?bytes=${first.body.length}` })),
    check: undefined,
  };
  const callsLoad = options(() => voice(newCallSid()));
  // Steady state, as in an isolate serving calls all day: both routes run untimed first, since
  // the answer's first seconds go to compiling its code (in a probe of 4 s windows: 0.89× the
  // empty route's throughput in the first, 1.07× in the third).
  for (const load of [floorLoad, answeredLoad, callsLoad])
    await runLoad({ ...load, warmupMs: 0, durationMs: steadyStateMs(profile) });
  const [sameRequestFloor, answeredFloor, calls] = (await alternateLoads(
    [floorLoad, answeredLoad, callsLoad].map((load) => ({ ...load, warmupMs: windowWarmupMs(profile) })),
    LOAD_ROUNDS,
  )) as [AlternateSide, AlternateSide, AlternateSide];
  const retries = await runLoad(options(() => voice(retried)));
  const synthesisedDuring = (await stack.openai.requests(SPEECH)).length - synthesisedBefore;
  if (synthesisedDuring > 0) {
    throw new Error(
      `the timed incoming calls synthesised the greeting ${synthesisedDuring} times: the cache was missed`,
    );
  }
  return { calls, retries, sameRequestFloor, answeredFloor };
}

/** What the fakes themselves spend answering one turn's requests, with no artificial delay (ms). */
async function fakesServiceMs(stack: Stack, replyText: string): Promise<number> {
  const openai = stack.openai.server.url;
  const auth = { Authorization: "Bearer sk-bench" };
  const ok = async (what: string, response: Promise<Response>) => {
    const res = await response;
    if (!res.ok) throw new Error(`fake ${what} answered ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    const wav = await ok(
      "recording",
      fetch(`${stack.twilio.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Recordings/${newRecordingSid()}.wav`, {
        headers: { Authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}` },
      }),
    );
    const form = new FormData();
    form.set("file", new Blob([wav], { type: "audio/wav" }), "turn.wav");
    form.set("model", "whisper-1");
    await ok(
      "transcription",
      fetch(`${openai}/v1/audio/transcriptions`, { method: "POST", headers: auth, body: form }),
    );
    await ok(
      "chat",
      fetch(`${openai}/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello" }] }),
      }),
    );
    await ok(
      "speech",
      fetch(`${openai}${SPEECH}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ model: "tts-1", voice: "nova", input: replyText, response_format: "mp3" }),
      }),
    );
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/** Sequential record→reply turns with fixed provider delays: each turn's latency minus those delays. */
async function turnOverheads(stack: Stack, profile: Profile): Promise<number[]> {
  await stack.openai.setDelays(PROVIDER_DELAYS);
  const overheads: number[] = [];
  try {
    let callSid = "";
    let recordPath = "";
    for (let turn = 0; turn < profile.turns; turn++) {
      if (turn % TURNS_PER_CALL === 0) {
        if (callSid)
          await stack.client.expectOk(
            signedForm(stack.base, "/webhooks/twilio/status", callEnded(callSid, TURNS_PHONE)),
          );
        callSid = newCallSid();
        const answer = await stack.client.expectOk(
          signedForm(stack.base, "/webhooks/twilio/voice", incomingCall(callSid, TURNS_PHONE)),
        );
        // The first recording webhook (to the answer's action, with its signed snapshot) creates the session.
        recordPath = recordActionPath(answer.body);
      }
      const reply = await stack.client.expectOk(
        signedForm(stack.base, recordPath, recordingDone(callSid, newRecordingSid(), TURNS_PHONE)),
      );
      const problem = answersWithPlay(reply.body);
      if (problem) throw new Error(`turn ${turn + 1} did not produce a spoken reply: ${problem}`);
      overheads.push(reply.ms - PROVIDER_DELAY_TOTAL_MS);
    }
    if (callSid)
      await stack.client.expectOk(
        signedForm(stack.base, "/webhooks/twilio/status", callEnded(callSid, TURNS_PHONE)),
      );
  } finally {
    await stack.openai.reset();
  }
  return overheads;
}

export async function webhookRows(stack: Stack, profile: Profile, floor: LoadResult): Promise<Row[]> {
  const {
    calls: incoming,
    retries,
    sameRequestFloor,
    answeredFloor,
  } = await incomingCallLoads(stack, profile);
  const answer = await opCost(stack.client, { op: "answer-call", ...profile.op, maxN: 100_000 });
  const notFound = await opCost(stack.client, { op: "app-not-found", ...profile.op, maxN: 100_000 });
  const signature = await opCost(stack.client, { op: "verify-signature", ...profile.op, maxN: 100_000 });
  const twiml = await opCost(stack.client, { op: "reply-twiml", ...profile.op, maxN: 100_000 });
  // The fake's default reply to the default transcript: the text the turns' speech requests carry.
  const fakesMs = await fakesServiceMs(
    stack,
    "You said: I would like to know your opening hours. We are open nine to five.",
  );
  const overheads = summarize(await turnOverheads(stack, profile));
  const incomingRounds = roundRatios(sameRequestFloor, incoming);
  const interval = ratioInterval(incoming.perSecond / sameRequestFloor.perSecond, incomingRounds);
  const delays = `stt ${PROVIDER_DELAYS.stt} + llm ${PROVIDER_DELAYS.llmFirstToken} + tts ${PROVIDER_DELAYS.tts} ms`;
  return [
    {
      issue: "3",
      measurement: `POST /webhooks/twilio/voice, signed, config + greeting cached (${profile.load.concurrency} concurrent)`,
      value: loadValue(incoming),
      baseline: `${loadValue(sameRequestFloor)} (the same signed POST to the empty route)`,
      notes: `${loadRatio(incoming, sameRequestFloor)} against the same request to the empty route (${roundSpread(incomingRounds, interval)}), ${LOAD_ROUNDS} windows each taken in turn (every other round in reverse order) after ${steadyStateMs(profile) / 1000} s of each untimed; workerd CPU per request ${cpuPerRequest(incoming)} against ${cpuPerRequest(sameRequestFloor)} (${cpuRatio(sameRequestFloor, incoming)}; wrangler's proxy included); the empty route reading the request and answering as many bytes, in the same turns: ${loadValue(answeredFloor)}, CPU ${cpuPerRequest(answeredFloor)} (the webhook ${loadRatio(incoming, answeredFloor)}, ${cpuRatio(answeredFloor, incoming)}: the rest is the Worker's own code); against the bodiless GET floor (${loadValue(floor)}): ${loadRatio(incoming, floor)}; a new CallSid per request (no CallSession at answer: the TwiML carries a signed snapshot, the session starts with the stream or first recording); Twilio retrying one CallSid: ${loadValue(retries)}; 0 TTS calls while timed`,
      data: {
        ...loadData(incoming),
        workerd_cpu_ms_per_request: incoming.workerdCpuMsPerRequest,
        rounds_per_second: incoming.roundsPerSecond,
        round_ratios_to_same_request_floor: incomingRounds,
        ratio_two_standard_errors: interval,
        same_request_floor: {
          ...loadData(sameRequestFloor),
          workerd_cpu_ms_per_request: sameRequestFloor.workerdCpuMsPerRequest,
          rounds_per_second: sameRequestFloor.roundsPerSecond,
        },
        answered_floor: {
          ...loadData(answeredFloor),
          workerd_cpu_ms_per_request: answeredFloor.workerdCpuMsPerRequest,
          rounds_per_second: answeredFloor.roundsPerSecond,
        },
        retries_same_call_sid: loadData(retries),
      },
    },
    {
      issue: "3",
      measurement: "the incoming-call answer inside the Worker (the app on a signed webhook), per call",
      value: opValue(answer),
      baseline: `${opValue(notFound)} (a request no route takes, through the same app)`,
      notes: `what the Worker's code does for an incoming call like the row above's, from the Request to the TwiML read, without HTTP or wrangler's proxy, on the 26 parameters Twilio sends (the row above sends 9); ${opNotes(answer)}`,
      data: { ...opData(answer), app_not_found: opData(notFound) },
    },
    {
      issue: "3",
      measurement: "Twilio signature verification, per call",
      value: opValue(signature),
      baseline: "",
      notes: `incoming-call form of 26 fields, signed over the URL as sent (one HMAC; other spellings only when it fails); ${opNotes(signature)}`,
      data: opData(signature),
    },
    {
      issue: "3",
      measurement: "TwiML building (greeting <Play> + <Record>), per call",
      value: opValue(twiml),
      baseline: "",
      notes: `includes the greeting's signed URL, signed once a minute per isolate as in the webhook (so nearly every call reuses it); ${opNotes(twiml)}`,
      data: opData(twiml),
    },
    {
      issue: "3",
      measurement: "added latency per record→reply turn (turn time − provider delays)",
      value: `median ${fmtMs(overheads.median)} · p99 ${fmtMs(overheads.p99)}`,
      baseline: `fixed delays ${PROVIDER_DELAY_TOTAL_MS} ms (${delays})`,
      notes: `${overheads.n} sequential turns; includes ≈${fmtMs(fakesMs)} the fakes spend serving a turn (measured directly)`,
      data: { added_ms: overheads, provider_delays_ms: PROVIDER_DELAYS, fakes_service_ms: fakesMs },
    },
  ];
}
