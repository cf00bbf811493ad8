import { ConfigChanges } from "./config/changes.ts";
import { ConfigResolver } from "./config/resolver.ts";
import { type Settings, settingsOf } from "./env.ts";
import { createStore } from "./stores/index.ts";
import type { ConfigStore } from "./stores/store.ts";

/** What routes need, built from the Worker's bindings: parsed settings, the store, the resolver. */
export interface Services {
  settings: Settings;
  store: ConfigStore;
  resolver: ConfigResolver;
  /** every write to a number's configuration (revision, preconditions, cache write-through) */
  changes: ConfigChanges;
}

export function servicesFor(env: Env, ctx?: Pick<ExecutionContext, "waitUntil">): Services {
  const settings = settingsOf(env);
  const store = createStore(env, settings);
  const resolver = new ConfigResolver({
    store,
    kv: env.CONFIG_CACHE,
    settings,
    ...(ctx ? { waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) } : {}),
  });
  return { settings, store, resolver, changes: new ConfigChanges(store, resolver) };
}
