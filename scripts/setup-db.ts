/**
 * `npm run setup:db`: prepares the store CONFIG_STORE names, idempotently, and says what it did.
 * Settings come from `.dev.vars` in the current directory and the environment (which wins), so
 * `MONGODB_URL=... CONFIG_STORE=mongodb npm run setup:db` works against production too.
 * Runs in Node (type stripping): it must not import `cloudflare:workers`.
 */
import { MongoClient } from "mongodb";
import { parseSettings, type Settings } from "../src/env.ts";
import { DataApiStore, dataApiOptions } from "../src/stores/data-api.ts";
import { MongoCollectionStore } from "../src/stores/mongo-collection.ts";
import { scrubCredentials, storeErrorFrom } from "../src/stores/mongo-errors.ts";
import { StoreError } from "../src/stores/store.ts";
import { scriptEnv } from "./dev-vars.ts";

// A one-off script may wait longer than a live call's lookup would.
const TIMEOUT_MS = 10_000;

async function setup(settings: Settings): Promise<string[]> {
  switch (settings.CONFIG_STORE) {
    case "embedded":
      return [
        "embedded store: nothing to do (its Durable Object creates its SQLite tables, the is_active index and the history's (phone_number, version) key on first use)",
      ];
    case "data-api":
      return new DataApiStore({ ...dataApiOptions(settings), timeoutMs: TIMEOUT_MS }).setup();
    case "mongodb":
      return setupMongo(settings.MONGODB_URL as string, settings.MONGODB_DB_NAME);
  }
}

async function setupMongo(url: string, database: string): Promise<string[]> {
  const client = new MongoClient(url, {
    appName: "edge-voice-agent setup-db",
    serverSelectionTimeoutMS: TIMEOUT_MS,
    connectTimeoutMS: TIMEOUT_MS,
  });
  try {
    try {
      await client.connect();
    } catch (err) {
      throw storeErrorFrom(err, `mongodb connect (database ${database})`);
    }
    return await new MongoCollectionStore(client.db(database)).setup();
  } finally {
    await client.close();
  }
}

try {
  const settings = parseSettings(scriptEnv(process.cwd(), process.env));
  for (const line of await setup(settings)) console.log(line);
} catch (err) {
  const kind = err instanceof StoreError ? ` (${err.kind})` : "";
  const message = err instanceof Error ? err.message : String(err);
  console.error(`setup:db failed${kind}: ${scrubCredentials(message)}`);
  process.exitCode = 1;
}
