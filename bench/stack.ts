import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { unstable_startWorker } from "wrangler";
import { startOpenAIFake } from "../test/fakes/openai.ts";
import type { OpenAIDelays } from "../test/fakes/openai-client.ts";
import { OWNER_FAKE_SIGNING_SECRET, startOwnerFake } from "../test/fakes/owner.ts";
import type { FakeServer } from "../test/fakes/server.ts";
import { startTwilioFake } from "../test/fakes/twilio.ts";
import type { RecordedRequest } from "../test/fakes/types.ts";
import { HttpClient } from "./http.ts";
import { ACCOUNT_SID, AUTH_TOKEN } from "./twilio-client.ts";

/**
 * What every measurement runs against: the fake OpenAI and Twilio servers (test/fakes) and the
 * bench Worker (bench/worker.ts) on local workerd through wrangler's unstable_startWorker, its
 * providers pointed at the fakes and its persistence in memory, so each run starts empty.
 */

export const ADMIN_API_KEY = "bench-admin-key";
/** Connections the Node side may hold open to the Worker (load generators use up to this many). */
const MAX_SOCKETS = 64;

export interface Stack {
  /** the Worker's own URL, also its PUBLIC_BASE_URL (what Twilio "requested") */
  base: string;
  client: HttpClient;
  openai: OpenAIFakeControl;
  twilio: FakeServer;
  /** a number owner's service, for webhook tools (test/fakes/owner.ts) */
  owner: FakeServer;
  logs: WorkerLogs;
  /** the Worker can reach MongoDB (MONGODB_TEST_URL was set) */
  mongodb: boolean;
  /** workerd's inspector (for bench/cpu-profile.ts), when started with `inspector: true` */
  inspectorUrl: URL | undefined;
  close(): Promise<void>;
}

export interface StackOptions {
  /** MONGODB_TEST_URL: gives the Worker MONGODB_URL so the mongodb store can be measured */
  mongodbUrl?: string;
  /** open workerd's inspector on a free port, so the Worker can be CPU-profiled */
  inspector?: boolean;
}

/** The OpenAI fake's root namespace, where the Worker's OPENAI_BASE_URL points. */
export class OpenAIFakeControl {
  readonly server: FakeServer;

  constructor(server: FakeServer) {
    this.server = server;
  }

  /** The providers' delays, each given; TTS chunks keep the fake's own spacing (2 ms, faster than real time). */
  async setDelays(delayMs: Required<Pick<OpenAIDelays, "stt" | "llmFirstToken" | "tts">>): Promise<void> {
    await this.post("/__openai/script", { delayMs });
  }

  /** The fake Realtime server's script (test/fakes/openai-realtime.ts). */
  async setRealtime(realtime: { firstAudioDelayMs?: number }): Promise<void> {
    await this.post("/__openai/script", { realtime });
  }

  /**
   * When the fake Realtime server sent each `speech_stopped`, and the first audio delta of the
   * answer to it, on this process's performance clock, in order.
   */
  async realtimeTurns(): Promise<Array<{ speech_stopped_at: number; first_audio_at?: number }>> {
    const response = await fetch(`${this.server.url}/__openai/realtime/turns`);
    if (!response.ok) throw new Error(`OpenAI fake: turns answered ${response.status}`);
    return (await response.json()) as Array<{ speech_stopped_at: number; first_audio_at?: number }>;
  }

  /** How many Realtime sockets the fake holds open now (the Worker's calls still connected). */
  async openRealtimeSockets(): Promise<number> {
    const response = await fetch(`${this.server.url}/__openai/realtime/sockets`);
    if (!response.ok) throw new Error(`OpenAI fake: sockets answered ${response.status}`);
    return ((await response.json()) as { open: number }).open;
  }

  /**
   * Forget the recorded requests, keeping the script: the Realtime fake records every event a
   * call sends (fifty appends a second), which a long ramp would otherwise keep in this
   * process's memory.
   */
  async forgetRequests(): Promise<void> {
    const response = await fetch(`${this.server.url}/__fake/requests`, { method: "DELETE" });
    if (!response.ok) throw new Error(`OpenAI fake: forgetting requests answered ${response.status}`);
  }

  /** Forget recorded requests and the script (delays included). */
  async reset(): Promise<void> {
    await this.post("/__fake/reset", {});
  }

  async requests(path: string): Promise<RecordedRequest[]> {
    const response = await fetch(`${this.server.url}/__fake/requests`);
    if (!response.ok) throw new Error(`OpenAI fake: listing requests answered ${response.status}`);
    return ((await response.json()) as RecordedRequest[]).filter((r) => r.path === path);
  }

  private async post(path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`OpenAI fake refused ${path}: ${response.status} ${await response.text()}`);
  }
}

/** The start of the app's log lines (src/log.ts writes `level` and `event` first). */
const APP_LINE = /^\{"level":"(\w+)","event":"([^"\\]*)"/;

/** The count key of a line APP_LINE does not match: its level and event if JSON, else its text. */
function otherLineKey(level: string, message: string): string {
  try {
    const line = JSON.parse(message) as { level?: string; event?: string };
    return `${line.level ?? level} ${line.event ?? "?"}`;
  } catch {
    return `${level} (not an app line): ${message.slice(0, 80)}`;
  }
}

/**
 * The Worker's log lines (one JSON object per line, src/log.ts), counted by level and event so
 * the report can say whether anything went wrong behind the numbers without printing thousands
 * of lines.
 */
export class WorkerLogs {
  private readonly counts = new Map<string, { count: number; example: string }>();

  add(level: string, message: string): void {
    // The app's lines start with their level and event (src/log.ts): read from the text, not
    // parsed, since Node shares the machine with the Worker it measures. Any other JSON line is
    // parsed; anything else (a runtime message) is counted under its text.
    const key = APP_LINE.exec(message)?.slice(1).join(" ") ?? otherLineKey(level, message);
    const seen = this.counts.get(key);
    if (seen) seen.count += 1;
    else this.counts.set(key, { count: 1, example: message.slice(0, 600) });
  }

  /** How many lines of this event the Worker has logged so far, at any level. */
  count(event: string): number {
    let total = 0;
    for (const [key, { count }] of this.counts) if (key.endsWith(` ${event}`)) total += count;
    return total;
  }

  /** "warn config_store_failed x3", for warn and error lines only, with the first line of each. */
  problems(): { summary: string; example: string }[] {
    return [...this.counts]
      .filter(([key]) => !/^(info|log|debug)\b/.test(key))
      .map(([key, { count, example }]) => ({ summary: `${key} x${count}`, example }));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}

const text = (value: string) => ({ type: "plain_text" as const, value });

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // The Worker runs offline: no fetching of Cloudflare's Request.cf placeholder data.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
  // wrangler's local observability (on by default) streams a trace of every invocation to a
  // collector Worker in the same workerd: each Media Stream message is an invocation of the
  // call's Durable Object, and the trace cost more CPU than the message itself (stream calls:
  // 30.7 against 17.5 ms of workerd CPU per call-second). Production has no such collector.
  process.env.X_LOCAL_OBSERVABILITY ??= "false";
  const [openai, twilio, owner] = await Promise.all([startOpenAIFake(), startTwilioFake(), startOwnerFake()]);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logs = new WorkerLogs();
  const closeFakes = () => Promise.all([openai.close(), twilio.close(), owner.close()]);
  const worker = await unstable_startWorker({
    config: fileURLToPath(new URL("./wrangler.bench.toml", import.meta.url)),
    bindings: {
      ADMIN_API_KEY: text(ADMIN_API_KEY),
      TWILIO_AUTH_TOKEN: text(AUTH_TOKEN),
      TWILIO_ACCOUNT_SID: text(ACCOUNT_SID),
      SIGNING_SECRET: text("bench-signing-secret"),
      OPENAI_API_KEY: text("sk-bench"),
      OPENAI_BASE_URL: text(`${openai.url}/v1`),
      TWILIO_API_BASE_URL: text(twilio.url),
      PUBLIC_BASE_URL: text(base),
      TOOL_SIGNING_SECRET: text(OWNER_FAKE_SIGNING_SECRET),
      // The owner fake is plain http on 127.0.0.1, which webhook tools call in development only.
      ENVIRONMENT: text("development"),
      ...(options.mongodbUrl && {
        MONGODB_URL: text(options.mongodbUrl),
        MONGODB_DB_NAME: text("voiceagent_bench"),
      }),
    },
    dev: {
      server: { hostname: "127.0.0.1", port },
      inspector: options.inspector ? { hostname: "127.0.0.1", port: await freePort() } : false,
      watch: false,
      persist: false,
      logLevel: "error",
      structuredLogsHandler: (log: { level: string; message: string }) => logs.add(log.level, log.message),
    },
  }).catch(async (err: unknown) => {
    await closeFakes();
    throw new Error("wrangler could not start the bench Worker", { cause: err });
  });
  const close = async () => {
    await worker.dispose();
    await closeFakes();
  };
  try {
    await worker.ready;
    const client = new HttpClient(new URL(base), MAX_SOCKETS);
    await client.expectOk({ method: "GET", path: "/__bench/empty" });
    return {
      base,
      client,
      openai: new OpenAIFakeControl(openai),
      twilio,
      owner,
      logs,
      mongodb: Boolean(options.mongodbUrl),
      inspectorUrl: options.inspector ? await worker.inspectorUrl : undefined,
      close: async () => {
        client.close();
        await close();
      },
    };
  } catch (err) {
    await close();
    throw new Error("the bench Worker did not start", { cause: err });
  }
}

/** Admin API calls, as an operator's script would make them. */
export async function admin(stack: Stack, method: "POST" | "GET", path: string, body?: unknown) {
  return stack.client.expectOk({
    method,
    path,
    headers: {
      Authorization: `Bearer ${ADMIN_API_KEY}`,
      ...(body !== undefined && { "Content-Type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  workerd: string;
  wrangler: string;
}

function packageVersion(name: string, from: string): string {
  const require = createRequire(from);
  const path = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}

export function machineFacts(): MachineFacts {
  // The workerd wrangler runs: the one its own miniflare depends on (wrangler may nest both).
  const wrangler = createRequire(import.meta.url).resolve("wrangler");
  const miniflare = createRequire(wrangler).resolve("miniflare");
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    workerd: packageVersion("workerd", miniflare),
    wrangler: packageVersion("wrangler", import.meta.url),
  };
}
