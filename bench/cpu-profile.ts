import { writeFileSync } from "node:fs";

/**
 * A V8 CPU profile of the bench Worker, taken over the Chrome DevTools protocol of workerd's
 * inspector (wrangler's inspector proxy, `startStack({ inspector: true })`). The profile is
 * written as a `.cpuprofile` file (open it in Chrome DevTools or speedscope) and summarised as
 * the functions with the most self time, so a bench run can say where the Worker's CPU went.
 */

interface CdpProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CdpProfile {
  nodes: CdpProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Node's WebSocket (undici) takes handshake headers; the DOM constructor type does not know them. */
type NodeWebSocket = new (url: string, init: { headers: Record<string, string> }) => WebSocket;

/** One function's share of the samples: self time in ms, and its share of all samples in %. */
export interface HotFunction {
  name: string;
  selfMs: number;
  percent: number;
}

/** A profile in progress; `stop` ends it, writes `file` and returns the hottest functions. */
export interface CpuProfiler {
  stop(file: string, top?: number): Promise<HotFunction[]>;
}

/** The user Worker's debugger WebSocket URL from the inspector's /json list. */
async function debuggerUrl(inspectorUrl: URL): Promise<string> {
  const list = new URL("/json", inspectorUrl);
  list.protocol = list.protocol === "wss:" ? "https:" : "http:";
  const response = await fetch(list);
  if (!response.ok) throw new Error(`the inspector's /json answered ${response.status}`);
  const targets = (await response.json()) as Array<{ id: string; webSocketDebuggerUrl?: string }>;
  const target = targets.find((t) => t.id.includes("user") && t.webSocketDebuggerUrl) ?? targets[0];
  if (!target?.webSocketDebuggerUrl) throw new Error("the inspector lists no Worker to profile");
  return target.webSocketDebuggerUrl;
}

/**
 * Starts sampling the Worker's isolate every `intervalUs` µs. Throws if the inspector cannot be
 * reached or refuses the Profiler domain.
 */
export async function startCpuProfile(inspectorUrl: URL, intervalUs = 200): Promise<CpuProfiler> {
  // wrangler's inspector proxy takes DevTools from localhost pages only (Origin checked).
  const socket = new (WebSocket as unknown as NodeWebSocket)(await debuggerUrl(inspectorUrl), {
    headers: { Origin: "http://localhost" },
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("the inspector socket did not open")), {
      once: true,
    });
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve(result: unknown): void; reject(err: Error): void }>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
    const waiter = message.id === undefined ? undefined : waiting.get(message.id);
    if (!waiter || message.id === undefined) return;
    waiting.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${JSON.stringify(message.error)}`));
    else waiter.resolve(message.result);
  });
  const call = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: intervalUs });
  await call("Profiler.start");
  return {
    async stop(file, top = 15) {
      const { profile } = (await call("Profiler.stop")) as { profile: CdpProfile };
      socket.close();
      writeFileSync(file, JSON.stringify(profile));
      return hottest(profile, top);
    },
  };
}

/** Self time per function (samples × their time deltas), the `top` largest first. */
export function hottest(profile: CdpProfile, top: number): HotFunction[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byNode.get(samples[i] as number);
    // A sample's time is the gap to the next one.
    const us = deltas[i + 1] ?? 0;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || "(anonymous)"} ${url.split("/").pop() ?? ""}:${lineNumber + 1}`;
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    total += us;
  }
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, percent: total ? (us / total) * 100 : 0 }));
}
