import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../src/app.ts";
import { MongoStore } from "../../src/stores/mongodb.ts";
import { fakeControl } from "../fakes/client.ts";
import { testEnv } from "./env.ts";

/**
 * The Worker's env with CONFIG_STORE set to each backend, so one test runs the whole app over
 * every store: embedded (the real Durable Object), data-api (the fake gateway, a namespace of
 * its own) and mongodb (the driver against the wire fake, a database of its own, indexes made
 * as `npm run setup:db` makes them).
 */
export const STORE_BACKENDS = ["embedded", "data-api", "mongodb"] as const;
export type Backend = (typeof STORE_BACKENDS)[number];

/** Keys as an operator would name them: `name:key`, plus a bare key (named "admin"). */
export const KEYS = { alice: "alice-key-0001", bob: "bob-key-0002", bare: "bare-key-0003" };
const ADMIN_API_KEY = `alice:${KEYS.alice}, bob:${KEYS.bob}, ${KEYS.bare}`;

export async function envFor(backend: Backend, extra: Record<string, string> = {}): Promise<object> {
  const base = { ...testEnv, ADMIN_API_KEY, ...extra };
  switch (backend) {
    case "embedded":
      return base;
    case "data-api":
      return {
        ...base,
        CONFIG_STORE: "data-api",
        DATA_API_URL: fakeControl(testEnv.FAKE_DATA_API_URL).url,
        DATA_API_KEY: "data-api-test-key",
      };
    case "mongodb": {
      const database = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
      await new MongoStore(testEnv.MONGO_STORE, { database }).setup();
      return { ...base, CONFIG_STORE: "mongodb", MONGODB_DB_NAME: database };
    }
  }
}

export interface Call {
  key?: keyof typeof KEYS | null;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An admin client for the app over `env`: JSON in, JSON and headers out. */
export function adminClient(env: object) {
  return async (method: string, path: string, call: Call = {}) => {
    const headers = new Headers(call.headers);
    const key = call.key === undefined ? "alice" : call.key;
    if (key !== null) headers.set("Authorization", `Bearer ${KEYS[key]}`);
    if (call.body !== undefined) headers.set("Content-Type", "application/json");
    const ctx = createExecutionContext();
    const response = await createApp().fetch(
      new Request(`http://localhost${path}`, {
        method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
    const json = (await response.json().catch(() => null)) as any;
    return { status: response.status, json, headers: response.headers };
  };
}
