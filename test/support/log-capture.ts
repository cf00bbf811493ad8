import { vi } from "vitest";

/**
 * Every JSON line the Worker and its Durable Objects log (src/log.ts) from now on, at every
 * level; the spies are undone by `vi.restoreAllMocks()`. Returns a reader of the lines so far.
 */
export function captureLog(): () => Record<string, unknown>[] {
  const text = captureLogText();
  return () => text().flatMap((l) => (l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : []));
}

/** As `captureLog`, but the lines as written (console.log, warn and error), unparsed. */
export function captureLogText(): () => string[] {
  const out: string[] = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((line: unknown) => out.push(String(line)));
  }
  return () => [...out];
}
