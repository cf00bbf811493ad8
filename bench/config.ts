import { type OpCost, opCost } from "./in-worker.ts";
import { type LoadResult, runLoad } from "./load.ts";
import { CONFIG_PHONE, STORE_MISS_NUMBERS } from "./numbers.ts";
import type { Profile } from "./profile.ts";
import {
  fmtRatio,
  fmtUs,
  loadData,
  loadRatio,
  loadValue,
  opData,
  opNotes,
  opValue,
  type Row,
  skippedRow,
} from "./report.ts";
import { BENCH_SETTINGS } from "./seed.ts";
import { ADMIN_API_KEY, type Stack } from "./stack.ts";

/**
 * Issue 2 (config resolution and the admin API) and issue 5 (the mongodb store): resolver
 * latency per layer, and admin GET throughput against the runtime's floor.
 */

/** The runtime's floor: an empty response through the same stack (the baseline of the req/s rows). */
export async function measureFloor(stack: Stack, profile: Profile): Promise<LoadResult> {
  return runLoad({
    client: stack.client,
    ...profile.load,
    next: () => ({ method: "GET", path: "/__bench/empty" }),
  });
}

async function storeMiss(stack: Stack, profile: Profile, store: "embedded" | "mongodb"): Promise<OpCost> {
  return opCost(stack.client, {
    op: "resolve-store",
    query: { store },
    prepare: { name: "kv-forget", query: { store, count: String(STORE_MISS_NUMBERS) } },
    ...profile.op,
    maxN: STORE_MISS_NUMBERS,
  });
}

/** The issue 2 rows, and the embedded store-miss median (µs), the mongodb row's baseline. */
export async function configRows(
  stack: Stack,
  profile: Profile,
  floor: LoadResult,
): Promise<{ rows: Row[]; storeMissUs: number }> {
  const memory = await opCost(stack.client, { op: "resolve-memory", ...profile.op, maxN: 200_000 });
  const kv = await opCost(stack.client, {
    op: "resolve-kv",
    prepare: { name: "kv-fresh" },
    ...profile.op,
    maxN: 1000,
  });
  const miss = await storeMiss(stack, profile, "embedded");
  const adminGet = await runLoad({
    client: stack.client,
    ...profile.load,
    next: () => ({
      method: "GET",
      path: `/admin/phone-config/${encodeURIComponent(CONFIG_PHONE)}`,
      headers: { Authorization: `Bearer ${ADMIN_API_KEY}` },
    }),
    check: (reply) =>
      reply.body.includes(`"phone_number":"${CONFIG_PHONE}"`) ? null : "the config was not in the answer",
  });
  const vsMemory = (cost: OpCost) =>
    `${fmtRatio(cost.perOpUs.median / memory.perOpUs.median)} memory hit; ${opNotes(cost)}`;
  const memoryBaseline = `memory hit ${fmtUs(memory.perOpUs.median)}`;
  const rows: Row[] = [
    {
      issue: "2",
      measurement: "resolver: memory hit, per resolve",
      value: opValue(memory),
      baseline: "",
      notes: `${opNotes(memory)}; includes its log line`,
      data: opData(memory),
    },
    {
      issue: "2",
      measurement: "resolver: KV hit (fresh memory cache), per resolve",
      value: opValue(kv),
      baseline: memoryBaseline,
      notes: vsMemory(kv),
      data: opData(kv),
    },
    {
      issue: "2",
      measurement: "resolver: store miss, embedded store (no KV entry), per resolve",
      value: opValue(miss),
      baseline: memoryBaseline,
      notes: `${vsMemory(miss)}; KV fill via waitUntil`,
      data: opData(miss),
    },
    {
      issue: "2,3",
      measurement: `runtime floor: GET /__bench/empty (${profile.load.concurrency} concurrent)`,
      value: loadValue(floor),
      baseline: "",
      notes:
        "baseline of the req/s rows (the incoming-call webhook has its own: the same request to this route); includes wrangler's local dev proxy (a second workerd) in front of the Worker",
      data: loadData(floor),
    },
    {
      issue: "2",
      measurement: `GET /admin/phone-config/{n} (${profile.load.concurrency} concurrent)`,
      value: loadValue(adminGet),
      baseline: loadValue(floor),
      notes: loadRatio(adminGet, floor),
      data: loadData(adminGet),
    },
  ];
  return { rows, storeMissUs: miss.perOpUs.median };
}

/** Issue 5: a store miss through the official MongoDB driver (CONFIG_STORE=mongodb). */
export async function mongodbRow(stack: Stack, profile: Profile, embeddedMissUs: number): Promise<Row> {
  const measurement = "resolver: store miss, mongodb store (MONGODB_TEST_URL), per resolve";
  if (!stack.mongodb) return skippedRow("5", measurement, "set MONGODB_TEST_URL");
  try {
    await stack.client.expectOk({
      method: "POST",
      path: "/__bench/prepare/store-seed?store=mongodb",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(BENCH_SETTINGS),
    });
  } catch (err) {
    return skippedRow(
      "5",
      measurement,
      `the mongodb store is not usable: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  try {
    const miss = await storeMiss(stack, profile, "mongodb");
    return {
      issue: "5",
      measurement,
      value: opValue(miss),
      baseline: `embedded store miss ${fmtUs(embeddedMissUs)}`,
      notes: `${fmtRatio(miss.perOpUs.median / embeddedMissUs)} embedded; ${opNotes(miss)}; database voiceagent_bench`,
      data: opData(miss),
    };
  } finally {
    await stack.client.expectOk({ method: "POST", path: "/__bench/prepare/store-clean?store=mongodb" });
  }
}
