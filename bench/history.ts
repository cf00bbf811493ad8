import { opCost } from "./in-worker.ts";
import { type LoadResult, runLoad } from "./load.ts";
import { VERSIONS_PHONE } from "./numbers.ts";
import type { Profile } from "./profile.ts";
import { fmtMs, fmtRatio, fmtUs, loadData, opData, opNotes, opValue, type Row } from "./report.ts";
import { seedNumber } from "./seed.ts";
import { ADMIN_API_KEY, type Stack } from "./stack.ts";

/**
 * Issue 9 (versions): what a revision adds to a config write on the embedded store, against
 * the same write without one, in the same run (bench/worker-history.ts says what each path
 * does); and GET /admin/phone-config/{n}/versions on a number holding 100 revisions, against
 * GET /admin/phone-config/{n} of the same number.
 */

/** Revisions the versions row's number holds: CONFIG_HISTORY_LIMIT's default, the most one page lists. */
const REVISIONS = 100;

const auth = { Authorization: `Bearer ${ADMIN_API_KEY}` };

async function seedHistory(stack: Stack): Promise<void> {
  await seedNumber(stack, VERSIONS_PHONE);
  for (let v = 2; v <= REVISIONS; v++) {
    await stack.client.expectOk({
      method: "PUT",
      path: `/admin/phone-config/${encodeURIComponent(VERSIONS_PHONE)}`,
      headers: { ...auth, "Content-Type": "application/json", "X-Change-Reason": `bench edit ${v}` },
      body: JSON.stringify({ greeting: `Hello, this is version ${v}.` }),
    });
  }
}

const latencyValue = (r: LoadResult) =>
  `p50 ${fmtMs(r.latencyMs.median)} · p99 ${fmtMs(r.latencyMs.p99)} · ${Math.round(r.perSecond)} req/s`;

export async function historyRows(stack: Stack, profile: Profile): Promise<Row[]> {
  const write = (history: "on" | "off") =>
    opCost(stack.client, { op: "config-write", query: { history }, ...profile.op, maxN: 2000 });
  // Interleaved twice so drift on the shared machine touches both sides alike; the later pair counts.
  await write("off");
  await write("on");
  const bare = await write("off");
  const withHistory = await write("on");

  await seedHistory(stack);
  const path = `/admin/phone-config/${encodeURIComponent(VERSIONS_PHONE)}`;
  const load = (suffix: string, check: (body: string) => string | null) =>
    runLoad({
      client: stack.client,
      ...profile.load,
      next: () => ({ method: "GET", path: `${path}${suffix}`, headers: auth }),
      check: (reply) => check(reply.body),
    });
  const single = await load("", (body) =>
    body.includes(`"version":${REVISIONS}`) ? null : `the config is not at version ${REVISIONS}`,
  );
  const versions = await load(`/versions?limit=${REVISIONS}`, (body) => {
    const page = JSON.parse(body) as { total: number; versions: unknown[] };
    return page.total === REVISIONS && page.versions.length === REVISIONS
      ? null
      : `expected ${REVISIONS} versions, got total ${page.total}, ${page.versions.length} listed`;
  });

  return [
    {
      issue: "9",
      measurement:
        "config write with history, embedded store (put: revision + row + retention at 100), per write",
      value: opValue(withHistory),
      baseline: `without history ${fmtUs(bare.perOpUs.median)}`,
      notes: `${fmtRatio(withHistory.perOpUs.median / bare.perOpUs.median)} without; ${opNotes(withHistory)}; one DO RPC per write`,
      data: { with_history: opData(withHistory), without_history: opData(bare) },
    },
    {
      issue: "9",
      measurement:
        "config write without history, embedded store (same transaction, config row only: the baseline), per write",
      value: opValue(bare),
      baseline: "",
      notes: `${opNotes(bare)}; bench-only DO method putWithoutHistory (bench/worker-history.ts)`,
      data: opData(bare),
    },
    {
      issue: "9",
      measurement: `GET /admin/phone-config/{n}/versions?limit=100, ${REVISIONS} revisions (${profile.load.concurrency} concurrent)`,
      value: latencyValue(versions),
      baseline: `GET /admin/phone-config/{n}: ${latencyValue(single)}`,
      notes: `${fmtRatio(versions.latencyMs.median / single.latencyMs.median)} p50, ${fmtRatio(versions.latencyMs.p99 / single.latencyMs.p99)} p99 of the single GET; ${versions.requests} requests`,
      data: { versions: loadData(versions), single_get: loadData(single) },
    },
  ];
}
