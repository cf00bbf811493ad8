import { type OpCost, opCost } from "./in-worker.ts";
import { runLoad } from "./load.ts";
import { ANALYTICS_PHONE, PLAIN_PHONE, ROUTED_PHONE } from "./numbers.ts";
import type { Profile } from "./profile.ts";
import { fmtMs, fmtRatio, fmtUs, loadData, opData, opNotes, opValue, type Row } from "./report.ts";
import { ADMIN_API_KEY, type Stack } from "./stack.ts";

/**
 * Issue 10: what routing adds to deciding a call (5 variants, a schedule and 20 caller rules,
 * against a plain config, measured in the same run), and the analytics query over one number's
 * 10,000 stored calls.
 */

export const ANALYTICS_CALLS = 10_000;

async function pair(stack: Stack, profile: Profile, op: string, maxN: number): Promise<[OpCost, OpCost]> {
  const plain = await opCost(stack.client, { op, query: { phone: PLAIN_PHONE }, ...profile.op, maxN });
  const routed = await opCost(stack.client, { op, query: { phone: ROUTED_PHONE }, ...profile.op, maxN });
  return [plain, routed];
}

function pairRow(measurement: string, plain: OpCost, routed: OpCost, what: string): Row {
  return {
    issue: "10",
    measurement,
    value: opValue(routed),
    baseline: `plain config ${fmtUs(plain.perOpUs.median)}`,
    notes: `${fmtRatio(routed.perOpUs.median / plain.perOpUs.median)} plain (goal: under 2×); ${what}; ${opNotes(routed)}`,
    data: { routed: opData(routed), plain: opData(plain) },
  };
}

export async function routingRows(stack: Stack, profile: Profile): Promise<Row[]> {
  const [plainDecide, routedDecide] = await pair(stack, profile, "decide-call", 100_000);
  const [plainRoute, routedRoute] = await pair(stack, profile, "route-call", 500_000);

  await stack.client.expectOk({
    method: "POST",
    path: `/__bench/prepare/analytics-calls?count=${ANALYTICS_CALLS}`,
  });
  // One request at a time; at least 2 s, so a loaded machine still yields a sample.
  const serial = { ...profile.load, concurrency: 1, durationMs: Math.max(profile.load.durationMs, 2000) };
  const floor = await runLoad({
    client: stack.client,
    ...serial,
    next: () => ({ method: "GET", path: "/__bench/empty" }),
  });
  const analytics = await runLoad({
    client: stack.client,
    ...serial,
    next: () => ({
      method: "GET",
      path: `/admin/analytics?phone_number=${encodeURIComponent(ANALYTICS_PHONE)}&group_by=day&fill=true`,
      headers: { Authorization: `Bearer ${ADMIN_API_KEY}` },
    }),
    check: (reply) => {
      const body = JSON.parse(reply.body) as { groups?: { calls: number }[] };
      const calls = (body.groups ?? []).reduce((sum, g) => sum + g.calls, 0);
      return calls >= ANALYTICS_CALLS * 0.9 ? null : `the answer counted ${calls} calls`;
    },
  });

  return [
    pairRow(
      "deciding a call: resolve (memory hit) + route, 5 variants + schedule + 20 caller rules, per call",
      plainDecide,
      routedDecide,
      "what the voice webhook runs (decideCall), its call_routed log line included; US callers that fall through all 20 rules",
    ),
    pairRow(
      "routing function alone (routeCall), 5 variants + schedule + 20 caller rules, per call",
      plainRoute,
      routedRoute,
      "schedule in America/New_York via Intl, libphonenumber country lookup, CallSid hash",
    ),
    {
      issue: "10",
      measurement: `GET /admin/analytics, one number with ${ANALYTICS_CALLS.toLocaleString("en")} stored calls (group_by=day, fill, 30 days)`,
      value: `p50 ${fmtMs(analytics.latencyMs.median)} · p99 ${fmtMs(analytics.latencyMs.p99)}`,
      baseline: `empty response p50 ${fmtMs(floor.latencyMs.median)}`,
      notes: `one request at a time, ${analytics.requests} requests; figures computed in the number's CallLog shard from its stored summaries`,
      data: { analytics: loadData(analytics), floor: loadData(floor) },
    },
  ];
}
