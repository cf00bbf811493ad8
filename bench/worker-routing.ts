import { callLog } from "../src/call/call-log.ts";
import type { CallSummary } from "../src/call/summary.ts";
import { MemoryCache } from "../src/config/cache-policy.ts";
import { decideCall } from "../src/config/call-routing.ts";
import type { CallConfig } from "../src/config/defaults.ts";
import type { E164 } from "../src/config/phone-number.ts";
import { ConfigResolver } from "../src/config/resolver.ts";
import { routeCall } from "../src/config/routing.ts";
import { CreateConfigBody, type PhoneConfig } from "../src/config/schema.ts";
import { settingsOf } from "../src/env.ts";
import { log } from "../src/log.ts";
import { createStore } from "../src/stores/index.ts";
import { ANALYTICS_PHONE, PLAIN_PHONE, ROUTED_PHONE } from "./numbers.ts";
import type { OpInput } from "./worker-ops.ts";

/**
 * Issue 10's in-worker operations: deciding a call for a number with 5 variants, a schedule and
 * 20 caller rules, against a plain config, and the 10,000 calls the analytics query reads.
 */

const base = {
  display_name: "Bench routing",
  system_prompt: "You are a helpful voice agent.",
  greeting: "Hello!",
};

/** 5 variants, a New York schedule with closed dates, 20 rules a US caller falls through. */
const ROUTING = {
  variants: ["a", "b", "c", "d", "e"].map((name) => ({
    name,
    weight: 20,
    settings: { greeting: `Hello from ${name}.`, temperature: 0.5 },
  })),
  schedule: {
    timezone: "America/New_York",
    hours: [
      { days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00" },
      { days: ["sat"], open: "10:00", close: "14:00" },
    ],
    closed_dates: ["2026-01-01", "2026-05-25", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"],
    after_hours: { settings: { greeting: "We are closed." } },
  },
  caller_rules: Array.from({ length: 20 }, (_, i) => {
    if (i % 4 === 0)
      return {
        name: `block-${i}`,
        match: {
          numbers: Array.from({ length: 50 }, (_, j) => `+1415555${String(i * 50 + j).padStart(4, "0")}`),
        },
        action: "reject",
      };
    if (i % 4 === 1)
      return { name: `prefix-${i}`, match: { prefixes: [`+44${i}`, `+33${i}`] }, action: "answer" };
    if (i % 4 === 2)
      return {
        name: `country-${i}`,
        match: { countries: ["GB", "FR", "DE", "ES", "IT"] },
        action: "answer",
        settings: { temperature: 0.3 },
      };
    return { name: `forward-${i}`, match: { prefixes: [`+49${i}`] }, action: "forward", to: "+14155550199" };
  }),
};

function stored(phone: string, extra: object): PhoneConfig {
  const { phone_number: _p, ...settings } = CreateConfigBody.parse({
    phone_number: phone,
    ...base,
    ...extra,
  });
  const at = "2026-01-01T00:00:00.000Z";
  return { phone_number: phone, ...settings, created_at: at, updated_at: at, version: 1 };
}

const DOCS: Record<string, PhoneConfig> = {
  [ROUTED_PHONE]: stored(ROUTED_PHONE, ROUTING),
  [PLAIN_PHONE]: stored(PLAIN_PHONE, {}),
};

/** Callers from the US (who fall through every rule) and CallSids, cycled through. */
const CALLERS = Array.from({ length: 64 }, (_, i) => `+1212555${String(1000 + i)}`);
const SIDS = Array.from({ length: 64 }, (_, i) => `CA${String(i).padStart(32, "0")}`);

function phoneParam(input: OpInput): E164 {
  const phone = input.query.get("phone") ?? "";
  if (!(phone in DOCS)) throw new Error(`phone must be ${ROUTED_PHONE} or ${PLAIN_PHONE}`);
  return phone as E164;
}

/** What the voice webhook does to decide a call: resolve (a memory hit) and route, with its log lines. */
const decide = async (input: OpInput) => {
  const phone = phoneParam(input);
  const settings = settingsOf(input.env);
  const memory = new MemoryCache();
  memory.set(phone, { doc: DOCS[phone] as PhoneConfig, fetchedAt: Date.now() });
  const store = createStore(input.env, settings);
  const resolver = new ConfigResolver({ store, kv: input.env.CONFIG_CACHE, settings, memory });
  const services = { settings, store, resolver, log: log.with({ bench: "decide-call" }) } as Parameters<
    typeof decideCall
  >[0];
  for (let i = 0; i < input.n; i++) {
    const number = { phone, rule: "to" as const, caller: CALLERS[i % 64] as string };
    await decideCall(services, number, { callSid: SIDS[i % 64] as string, at: new Date() });
  }
};

/** The routing function alone. */
const route = async (input: OpInput) => {
  const phone = phoneParam(input);
  const config: CallConfig = { ...(DOCS[phone] as PhoneConfig), uses_defaults: false };
  for (let i = 0; i < input.n; i++) {
    routeCall(config, { caller: CALLERS[i % 64] as string, callSid: SIDS[i % 64] as string, at: new Date() });
  }
};

export const ROUTING_OPERATIONS: Record<string, (input: OpInput) => Promise<void>> = {
  "decide-call": decide,
  "route-call": route,
};

/** An ended call of the analytics number: turns mode or stream, a variant, 0–6 turns. */
function sampleCall(i: number, startedAt: Date): CallSummary {
  const stream = i % 2 === 0;
  const turns = Array.from({ length: i % 7 }, (_, t) => ({
    seq: t + 1,
    at: startedAt.toISOString(),
    outcome: t === 5 ? ("failed" as const) : ("reply" as const),
    transcript: "I'd like to know my balance.",
    reply: "Your balance is forty two dollars.",
    timings: stream
      ? {
          transcript_ms: 120,
          first_token_ms: 300,
          first_audio_ms: 420,
          first_frame_ms: 400 + ((i * 7 + t) % 300),
        }
      : { recording_ms: 2000, stt_ms: 150, llm_ms: 350 + ((i + t) % 200), tts_ms: 180, total_ms: 2900 },
    ...(stream && t === 2 && { interrupted: true }),
  }));
  return {
    call_sid: `CA${String(i).padStart(32, "0")}`,
    from: `+1415555${String(i % 10_000).padStart(4, "0")}`,
    to: ANALYTICS_PHONE,
    display_name: "Bench analytics",
    config_version: 1,
    config_source: "memory",
    uses_defaults: false,
    mode: stream ? "stream" : "turns",
    channel: "phone",
    recording_sid: null,
    status: "ended",
    started_at: startedAt.toISOString(),
    ended_at: new Date(startedAt.getTime() + 60_000).toISOString(),
    duration_seconds: 30 + (i % 240),
    end_reason: (["completed", "silence", "max_duration", "rejected"] as const)[i % 4] ?? "completed",
    turns,
    number_rule: "to",
    variant: ["a", "b", "c", "d", "e"][i % 5] ?? null,
    rule: i % 4 === 3 ? "blocked" : null,
    after_hours: i % 3 === 0,
  };
}

export const ROUTING_PREPARATIONS: Record<string, (input: OpInput) => Promise<string>> = {
  /** `count` ended calls of ANALYTICS_PHONE in its shard, spread over the 30 days before now. */
  "analytics-calls": async ({ env, query }: OpInput) => {
    const count = Number(query.get("count") ?? 10_000);
    const log = callLog(env, ANALYTICS_PHONE);
    const now = Date.now();
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, count - i) }, (_, j) =>
          log.record(sampleCall(i + j, new Date(now - ((i + j) * 30 * 86_400_000) / count))),
        ),
      );
    }
    return `recorded ${count} calls for ${ANALYTICS_PHONE}`;
  },
};
