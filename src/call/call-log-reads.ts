import { type AnalyticsRange, mergeGroups, type PartialGroup } from "./analytics.ts";
import type { CallIndexFilter, CallListItem } from "./call-index.ts";
import { callLog, directory, LEGACY, legacyLog } from "./call-log.ts";
import type { CallSummary } from "./summary.ts";

/**
 * Reads across the call log's shards (src/call/call-log.ts): the lists of calls (from the call
 * index, then the shards a page names), one call by its CallSid, and analytics folded in every
 * shard. Each fans out at most FAN_OUT shards at a time.
 */

/** Shards read at once by a cross-number view: bounded so one request never opens hundreds. */
export const FAN_OUT = 6;

/** Every number with a call log. */
async function callLogNumbers(env: Env): Promise<string[]> {
  return directory(env).shards();
}

/** `fn` over every item, at most `limit` at once; results in item order. */
async function fanOut<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Analytics groups over one number's shard (E.164 or "unknown") or, with null, every shard:
 * each shard folds its own stored facts, FAN_OUT at a time, and the partial groups merge
 * exactly. The one computation behind GET /admin/analytics and the console's analytics page.
 */
export async function queryAnalytics(
  env: Env,
  phone: string | null,
  range: AnalyticsRange & { from: string; to: string },
): Promise<{ groups: PartialGroup[]; shards: number }> {
  const numbers = phone ? [phone] : await callLogNumbers(env);
  const partials = await fanOut(numbers, FAN_OUT, (n) => callLog(env, n).analytics(range));
  return { groups: mergeGroups(partials), shards: numbers.length };
}

export interface CallFilter {
  /** one number's shard (E.164 or "unknown"); without it, every number */
  phoneNumber?: string;
  limit: number;
  since?: string;
  until?: string;
  endReason?: string;
  /** the A/B variant's name (routing's `variants`) */
  variant?: string;
}

/**
 * The newest calls matching the filter, with their turns (the admin API's list). One number:
 * its own shard, and the legacy log's calls to it. Every number: the call index picks the page
 * in one query (`recentCalls`), then each shard the page names is read once for its calls,
 * FAN_OUT at a time, and the legacy log for what they lack (calls from before sharding). A page
 * of 50 reads at most 50 shards however many numbers there are; it is as complete as the index
 * (a failed index write, logged as `call_index_write_failed`, leaves that call out of it).
 */
export async function listCalls(env: Env, filter: CallFilter): Promise<CallSummary[]> {
  const { phoneNumber, ...shardFilter } = filter;
  if (phoneNumber) {
    const [mine, legacy] = await Promise.all([
      callLog(env, phoneNumber).list(shardFilter),
      legacyLog(env).list({ ...shardFilter, to: phoneNumber }),
    ]);
    return [...mine, ...legacy]
      .sort((a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0))
      .slice(0, filter.limit);
  }
  const items = await recentCalls(env, filter);
  const byShard = new Map<string, string[]>();
  for (const item of items) byShard.set(item.to, [...(byShard.get(item.to) ?? []), item.call_sid]);
  const found = new Map<string, CallSummary>();
  const keep = (calls: CallSummary[]) => {
    for (const call of calls) found.set(call.call_sid, call);
  };
  await fanOut([...byShard], FAN_OUT, async ([shard, sids]) => keep(await callLog(env, shard).getMany(sids)));
  const elsewhere = items.filter((item) => !found.has(item.call_sid)).map((item) => item.call_sid);
  if (elsewhere.length > 0) keep(await legacyLog(env).getMany(elsewhere));
  return items.flatMap((item) => found.get(item.call_sid) ?? []);
}

/**
 * The newest calls matching the filter, across every number or one, as a list shows them:
 * one query of the call index (src/call/call-index.ts), whatever the number of shards. The
 * first list after an upgrade fills the index from the shards and the legacy log once.
 */
export async function recentCalls(env: Env, filter: CallFilter): Promise<CallListItem[]> {
  const { phoneNumber, ...rest } = filter;
  const query: CallIndexFilter = { ...rest, ...(phoneNumber && { to: phoneNumber }) };
  const listed = await directory(env).indexedCalls(query);
  if (listed) return listed;
  await fillCallIndex(env);
  return (await directory(env).indexedCalls(query)) ?? [];
}

/**
 * Adds the calls of the shards registered before the index existed, and of the legacy log, to
 * the index, FAN_OUT shards at a time, without touching rows it already has (live writes are
 * newer), then marks it filled. Idempotent: two lists racing to fill it add the same rows.
 */
async function fillCallIndex(env: Env): Promise<void> {
  const numbers = await directory(env).unindexedShards();
  await fanOut([...numbers, LEGACY], FAN_OUT, async (n) => {
    const log = n === LEGACY ? legacyLog(env) : callLog(env, n);
    await directory(env).fillIndex(await log.listItems());
  });
  await directory(env).markIndexFilled();
}

/**
 * One call, live or ended: a live call's own object has the turns so far; an ended one is in
 * the shard the call index names, or else (a call from before the index) looked for FAN_OUT
 * shards at a time, then in the legacy unsharded log.
 */
export async function findCall(env: Env, callSid: string): Promise<CallSummary | null> {
  const live = await env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid)).snapshot();
  if (live) return live;
  const indexed = await directory(env).indexedNumber(callSid);
  const found = indexed ? await callLog(env, indexed).get(callSid) : null;
  if (found) return found;
  const numbers = await callLogNumbers(env);
  for (let i = 0; i < numbers.length; i += FAN_OUT) {
    const found = await Promise.all(numbers.slice(i, i + FAN_OUT).map((n) => callLog(env, n).get(callSid)));
    const call = found.find((f) => f !== null);
    if (call) return call;
  }
  return legacyLog(env).get(callSid);
}
