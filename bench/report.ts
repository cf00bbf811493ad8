import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import type { OpCost } from "./in-worker.ts";
import type { LoadResult } from "./load.ts";
import type { MachineFacts } from "./stack.ts";

/**
 * The bench's output: one table (issue | measurement | value | baseline | ratio / notes),
 * printed as Markdown so it can go into the README as is, and the same rows as JSON with the
 * raw numbers in bench/results/latest.json.
 */

export interface Row {
  issue: string;
  measurement: string;
  value: string;
  baseline: string;
  notes: string;
  /** the raw numbers behind `value` (JSON output only) */
  data?: Record<string, unknown>;
}

/** A row that could not be measured; the reason is cut to one short line to keep the table readable. */
export const skippedRow = (issue: string, measurement: string, reason: string): Row => ({
  issue,
  measurement,
  value: `skipped: ${reason.replace(/\s+/g, " ").slice(0, 240)}`,
  baseline: "",
  notes: "",
});

export const fmtUs = (us: number) =>
  us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(us < 10 ? 1 : 0)} µs`;
export const fmtMs = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
export const fmtRate = (perSecond: number) => `${Math.round(perSecond).toLocaleString("en-US")} req/s`;
export const fmtRatio = (ratio: number) => `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`;

export function loadValue(result: LoadResult): string {
  return `${fmtRate(result.perSecond)} · p99 ${fmtMs(result.latencyMs.p99)}`;
}

/** "0.42× req/s, 2.10× p99" against the floor. */
export function loadRatio(result: LoadResult, floor: LoadResult): string {
  return `${fmtRatio(result.perSecond / floor.perSecond)} req/s, ${fmtRatio(result.latencyMs.p99 / floor.latencyMs.p99)} p99`;
}

export function loadData(result: LoadResult): Record<string, unknown> {
  return {
    per_second: result.perSecond,
    requests: result.requests,
    seconds: result.seconds,
    latency_ms: result.latencyMs,
    errors: result.errors,
    ...(result.firstError && { first_error: result.firstError }),
  };
}

export function opValue(cost: OpCost): string {
  return `median ${fmtUs(cost.perOpUs.median)} · p99 ${fmtUs(cost.perOpUs.p99)}`;
}

export function opNotes(cost: OpCost): string {
  return `${cost.batches} batches of ${cost.n}; p99 over batch means`;
}

export function opData(cost: OpCost): Record<string, unknown> {
  return { per_op_us: cost.perOpUs, n_per_batch: cost.n, batches: cost.batches, floor_ms: cost.floorMs };
}

function escapeCell(cell: string): string {
  return cell.replaceAll("|", "\\|");
}

export function renderTable(rows: Row[]): string {
  const header = ["issue", "measurement", "value", "baseline", "ratio / notes"];
  const cells = rows.map((r) => [r.issue, r.measurement, r.value, r.baseline, r.notes].map(escapeCell));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i] as number)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export function renderFacts(facts: MachineFacts, load: { start: number[]; end: number[] }): string {
  const avg = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  return [
    `machine: ${facts.cpus} CPUs (${facts.cpuModel}), ${facts.memoryGiB} GiB`,
    `node ${facts.node}, workerd ${facts.workerd} (wrangler ${facts.wrangler}), all on loopback`,
    `load average (1/5/15 min) at start: ${avg(load.start)}, at end: ${avg(load.end)}`,
  ].join("\n");
}

export const loadAverage = () => loadavg();

export function writeResults(path: URL, content: unknown): void {
  mkdirSync(new URL(".", path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
}
