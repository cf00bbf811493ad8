/**
 * The phone numbers the bench seeds and measures, shared by the Node side (which seeds them
 * through the admin API) and the bench Worker (whose in-worker operations resolve them).
 * All in +1 212 7xx, valid NANP numbers that no test uses.
 */

/** Resolver memory/KV hits and the admin GET. */
export const CONFIG_PHONE = "+12127000001";
/** The incoming-call webhook and record→reply turns. */
export const TURNS_PHONE = "+12127000002";
/** Media Streams calls (conversation_mode "stream"). */
export const STREAM_PHONE = "+12127000003";
/** Record→reply turns with one webhook tool. */
export const TOOLS_PHONE = "+12127000004";
/** Speech-to-speech calls (conversation_mode "realtime"). */
export const REALTIME_PHONE = "+12127000005";

/** Config writes with history (issue 9): the store's put, each write a revision. */
export const WRITE_PHONE = "+12127000006";
/** The same writes without history: the baseline of WRITE_PHONE's. */
export const WRITE_BARE_PHONE = "+12127000007";
/** A number with a full history (100 revisions) for GET .../versions. */
export const VERSIONS_PHONE = "+12127000008";

/** How many numbers a store-miss batch may use: each op needs a number with no KV entry. */
export const STORE_MISS_NUMBERS = 64;

/** The i-th store-miss number of a store (`base` 0: embedded, 100: mongodb). */
export function storeMissPhone(base: number, i: number): string {
  return `+121271${String(base + i).padStart(5, "0")}`;
}

export const STORE_MISS_BASE = { embedded: 0, mongodb: 100 } as const;

/** Issue 10: a number with 5 variants, a schedule and 20 caller rules; a plain one; analytics. */
export const ROUTED_PHONE = "+12127000010";
export const PLAIN_PHONE = "+12127000011";
export const ANALYTICS_PHONE = "+12127000012";
