import type { Settings } from "../env.ts";
import { DataApiStore } from "./data-api.ts";
import { EmbeddedStore } from "./embedded.ts";
import { MongoStore } from "./mongodb.ts";
import type { ConfigStore } from "./store.ts";

/** The store CONFIG_STORE names, built from settings that env.ts has already checked. */
export function createStore(env: Env, settings: Settings): ConfigStore {
  switch (settings.CONFIG_STORE) {
    case "embedded":
      return new EmbeddedStore(env.EMBEDDED_STORE);
    case "data-api":
      return new DataApiStore({
        url: settings.DATA_API_URL as string,
        apiKey: settings.DATA_API_KEY as string,
        dataSource: settings.DATA_API_DATA_SOURCE,
        database: settings.MONGODB_DB_NAME,
        timeoutMs: settings.CONFIG_STORE_TIMEOUT_MS,
      });
    case "mongodb":
      return new MongoStore(env.MONGO_STORE, { database: settings.MONGODB_DB_NAME });
  }
}
