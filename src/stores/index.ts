import type { Settings } from "../env.ts";
import { DataApiStore, dataApiOptions } from "./data-api.ts";
import { EmbeddedStore } from "./embedded.ts";
import { MongoStore } from "./mongodb.ts";
import type { ConfigStore } from "./store.ts";

/** The store CONFIG_STORE names, built from settings that env.ts has already checked. */
export function createStore(env: Env, settings: Settings): ConfigStore {
  switch (settings.CONFIG_STORE) {
    case "embedded":
      return new EmbeddedStore(env.EMBEDDED_STORE, { historyLimit: settings.CONFIG_HISTORY_LIMIT });
    case "data-api":
      return new DataApiStore(dataApiOptions(settings));
    case "mongodb":
      return new MongoStore(env.MONGO_STORE, {
        database: settings.MONGODB_DB_NAME,
        historyLimit: settings.CONFIG_HISTORY_LIMIT,
      });
  }
}
