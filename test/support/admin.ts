import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { testEnv } from "./env.ts";

/** A random, valid US number, so tests sharing the embedded store never touch each other's documents. */
export function uniquePhone(): string {
  const exchange = 200 + Math.floor(Math.random() * 800);
  const line = String(Math.floor(Math.random() * 10_000)).padStart(4, "0");
  return `+1212${exchange}${line}`;
}

/** A complete create body in the seed's shape. */
export function sampleBody(phone: string, overrides: Record<string, unknown> = {}) {
  return {
    phone_number: phone,
    display_name: "Sales Line",
    stt_model: "whisper-1",
    tts_model: "tts-1",
    tts_voice: "nova",
    inference_model: "gpt-4o-mini",
    temperature: 0.7,
    max_tokens: 500,
    system_prompt: "You are a sales representative. Be enthusiastic and helpful.",
    greeting: "Welcome to our sales team!",
    enable_interrupts: true,
    interrupt_timeout: 0.5,
    enable_recording: true,
    max_call_duration: 3600,
    is_active: true,
    ...overrides,
  };
}

export interface AdminRequest {
  body?: unknown;
  /** raw body, sent as is */
  raw?: string;
  contentType?: string | null;
  key?: string | null;
}

/** Calls the deployed Worker (its real fetch handler) as an admin client would. */
export async function admin(method: string, path: string, options: AdminRequest = {}) {
  const headers = new Headers();
  const key = options.key === undefined ? testEnv.ADMIN_API_KEY : options.key;
  if (key !== null) headers.set("Authorization", `Bearer ${key}`);
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  if (body !== undefined && contentType !== null) headers.set("Content-Type", contentType);
  const response = await exports.default.fetch(`http://localhost${path}`, { method, headers, body });
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  const json = (await response.json().catch(() => null)) as any;
  return { status: response.status, json, headers: response.headers };
}

/**
 * A new number answering in `mode`, created through the admin API (201 asserted). It does not
 * record unless `overrides` says so: a number that records has its session created at answer.
 */
export async function newNumber(
  mode: "turns" | "stream" | "realtime",
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const phone = uniquePhone();
  const res = await admin("POST", "/admin/phone-config", {
    body: sampleBody(phone, { conversation_mode: mode, enable_recording: false, ...overrides }),
  });
  expect(res.status).toBe(201);
  return phone;
}

/** The call as an operator sees it at GET /admin/calls/{CallSid} (200 asserted). */
export async function loggedCall(sid: string) {
  const { status, json } = await admin("GET", `/admin/calls/${sid}`);
  expect(status).toBe(200);
  return json.call as { status: string; end_reason: string | null; turns: { outcome: string }[] };
}
