/**
 * A short, growing delay after repeated failed console sign-ins from one client, so guessing
 * admin keys through the form is slow while a mistyped key costs nothing: the first
 * FREE_ATTEMPTS failures answer at once, then each further answer waits 1 s, 2 s, 4 s, 8 s
 * (the cap). Failures are counted per client address in Workers KV for 15 minutes
 * (eventually consistent across locations, which is fine for a slowdown).
 */

export const FREE_ATTEMPTS = 3;
const MAX_DELAY_MS = 8000;
const WINDOW_S = 15 * 60;

const keyFor = (client: string) => `console-login-failures:${client}`;

/** The delay before answering a sign-in after `failures` earlier failures, in ms. */
export function delayAfter(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(1000 * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY_MS);
}

export async function failuresOf(kv: KVNamespace, client: string): Promise<number> {
  return Number((await kv.get(keyFor(client))) ?? 0) || 0;
}

export async function recordFailure(kv: KVNamespace, client: string, failures: number): Promise<void> {
  await kv.put(keyFor(client), String(failures + 1), { expirationTtl: WINDOW_S });
}

export async function clearFailures(kv: KVNamespace, client: string): Promise<void> {
  await kv.delete(keyFor(client));
}
