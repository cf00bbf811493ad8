import { callLog } from "../src/call/call-log.ts";
import type { CallSummary } from "../src/call/summary.ts";
import type { E164 } from "../src/config/phone-number.ts";
import { CreateConfigBody } from "../src/config/schema.ts";
import { settingsOf } from "../src/env.ts";
import { createStore } from "../src/stores/index.ts";
import type { OpInput } from "./worker-ops.ts";

/**
 * Issue 13 (the console): bench preparations that fill the embedded store with numbers and the
 * call log with calls, directly through the store and the CallLog object (through the admin
 * API and signed webhooks these would take minutes and measure something else).
 */

/** The console bench's numbers: +1 646 555 0000 onwards (a fictional 555 range). */
export const consoleNumber = (i: number) => `+1646555${String(i).padStart(4, "0")}` as E164;

const BATCH = 100;

async function inBatches(count: number, write: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => write(start + k)));
  }
}

function sampleCall(i: number, to: E164, startedAt: Date): CallSummary {
  const turns = Array.from({ length: 3 }, (_, k) => ({
    seq: k + 1,
    at: new Date(startedAt.getTime() + (k + 1) * 8000).toISOString(),
    outcome: "reply" as const,
    transcript: "I would like to know your opening hours.",
    reply: "We are open nine to five, Monday to Friday.",
    timings: { transcript_ms: 310, first_token_ms: 520, first_audio_ms: 700, first_frame_ms: 720 + (i % 50) },
  }));
  return {
    call_sid: `CA${String(i).padStart(32, "0")}`,
    from: "+14155550100",
    to,
    display_name: `Console bench ${i % 1000}`,
    config_version: 1,
    config_source: "kv",
    uses_defaults: false,
    mode: "stream",
    channel: "phone",
    status: "ended",
    started_at: startedAt.toISOString(),
    ended_at: new Date(startedAt.getTime() + 30_000).toISOString(),
    duration_seconds: 30,
    end_reason: i % 10 === 0 ? "stream_closed" : "completed",
    recording_sid: null,
    turns,
  };
}

export const CONSOLE_PREPARATIONS: Record<string, (input: OpInput) => Promise<string>> = {
  /** `count` numbers in the embedded store, with the admin API's defaults. */
  "console-numbers": async ({ env, query }) => {
    const count = Number(query.get("count") ?? 1000);
    const store = createStore(env, { ...settingsOf(env), CONFIG_STORE: "embedded" });
    const now = new Date();
    await inBatches(count, async (i) => {
      const { phone_number: _phone, ...settings } = CreateConfigBody.parse({
        phone_number: consoleNumber(i),
        display_name: `Console bench ${i}`,
        system_prompt: "You are a helpful voice agent.",
        greeting: "Hello!",
        conversation_mode: i % 3 === 0 ? "turns" : "stream",
      });
      await store.put(consoleNumber(i), settings, { now });
    });
    return `wrote ${count} numbers`;
  },
  /** `count` ended calls in the call log, spread over the last 14 days and the first 1,000 numbers. */
  "console-calls": async ({ env, query }) => {
    const count = Number(query.get("count") ?? 10_000);
    const now = Date.now();
    // Each number's calls go to that number's shard of the call log.
    await inBatches(count, (i) =>
      callLog(env, consoleNumber(i % 1000)).record(
        sampleCall(i, consoleNumber(i % 1000), new Date(now - (i * 14 * 86_400_000) / count)),
      ),
    );
    return `recorded ${count} calls`;
  },
};
