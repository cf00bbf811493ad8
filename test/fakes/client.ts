import type { Behavior, RecordedRequest } from "./types.ts";

/**
 * The tests' side of a fake server (runs inside workerd, talks to the fake over HTTP).
 * Each call gets a fresh namespace, so test files running in parallel never see each
 * other's requests; `url` is the base URL to hand to the code under test. `namespace: null`
 * is the root namespace, where the Worker's own bindings point (the e2e tests, run one file
 * at a time).
 */
export function fakeControl(serverUrl: string, namespace: string | null = crypto.randomUUID()) {
  const url = namespace === null ? serverUrl : `${serverUrl}/ns/${namespace}`;
  return {
    url,
    async requests(): Promise<RecordedRequest[]> {
      return (await fetch(`${url}/__fake/requests`)).json();
    },
    async reset(): Promise<void> {
      await (await fetch(`${url}/__fake/reset`, { method: "POST" })).body?.cancel();
    },
    async behave(behavior: Behavior): Promise<void> {
      await (
        await fetch(`${url}/__fake/behavior`, { method: "POST", body: JSON.stringify(behavior) })
      ).body?.cancel();
    },
  };
}
