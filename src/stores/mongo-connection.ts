import { MongoClient, type MongoClientOptions } from "mongodb";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { errorFields, log } from "../log.ts";
import type { ConfigPage, ConfigQuery } from "./config-query.ts";
import { MongoCollectionStore } from "./mongo-collection.ts";
import { scrubCredentials, storeErrorFrom } from "./mongo-errors.ts";
import type { ChangeInfo, Revision, RevisionPage, RevisionQuery } from "./revision.ts";
import { type PutOptions, type StoredTemplate, StoreError, type StoreErrorKind } from "./store.ts";

/**
 * One MongoClient held warm for the mongodb store's Durable Object (src/stores/mongodb.ts):
 * connected on first use, shared by every request, dropped and recreated after a network
 * failure (a client whose sockets broke may not notice by itself). Each operation answers with
 * an Outcome rather than throwing, because custom Error classes do not survive RPC.
 */

export type Outcome<T> = { ok: true; value: T } | { ok: false; kind: StoreErrorKind; message: string };

/** Which database, and how many revisions per number it keeps (CONFIG_HISTORY_LIMIT). */
export interface MongoTarget {
  database: string;
  historyLimit: number;
}

export type ConnectionState = "connected" | "connecting" | "disconnected" | `error: ${string}`;

const CLIENT_OPTIONS: MongoClientOptions = {
  appName: "edge-voice-agent",
  // Fail fast: a config lookup on a live call cannot wait long, and the resolver falls back.
  serverSelectionTimeoutMS: 3000,
  connectTimeoutMS: 3000,
  socketTimeoutMS: 10_000,
  // One Durable Object serves every request: a few sockets cover its concurrency.
  maxPoolSize: 5,
};

export class MongoConnection {
  private readonly url: () => string | undefined;
  private client: MongoClient | undefined;
  private connecting: Promise<MongoClient> | undefined;
  private state: ConnectionState = "disconnected";

  /** `url` is read at each (re)connect, so a connection string is never held longer than needed. */
  constructor(url: () => string | undefined) {
    this.url = url;
  }

  get(target: MongoTarget, phone: E164): Promise<Outcome<PhoneConfig | null>> {
    return this.run("get", (client) => collectionStore(client, target).get(phone));
  }

  list(target: MongoTarget, includeInactive: boolean): Promise<Outcome<PhoneConfig[]>> {
    return this.run("list", (client) => collectionStore(client, target).list(includeInactive));
  }

  query(target: MongoTarget, query: ConfigQuery): Promise<Outcome<ConfigPage>> {
    return this.run("query", (client) => collectionStore(client, target).query(query));
  }

  put(
    target: MongoTarget,
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<Outcome<{ config: PhoneConfig; created: boolean }>> {
    return this.run("put", (client) => collectionStore(client, target).put(phone, settings, options));
  }

  deactivate(
    target: MongoTarget,
    phone: E164,
    now: Date,
    change?: ChangeInfo,
  ): Promise<Outcome<PhoneConfig | null>> {
    return this.run("deactivate", (client) => collectionStore(client, target).deactivate(phone, now, change));
  }

  remove(target: MongoTarget, phone: E164): Promise<Outcome<boolean>> {
    return this.run("remove", (client) => collectionStore(client, target).remove(phone));
  }

  revisions(target: MongoTarget, phone: E164, query: RevisionQuery): Promise<Outcome<RevisionPage>> {
    return this.run("revisions", (client) => collectionStore(client, target).revisions(phone, query));
  }

  revision(target: MongoTarget, phone: E164, version: number): Promise<Outcome<Revision | null>> {
    return this.run("revision", (client) => collectionStore(client, target).revision(phone, version));
  }

  templates(target: MongoTarget): Promise<Outcome<StoredTemplate[]>> {
    return this.run("templates", (client) => collectionStore(client, target).templates());
  }

  template(target: MongoTarget, name: string): Promise<Outcome<StoredTemplate | null>> {
    return this.run("template", (client) => collectionStore(client, target).template(name));
  }

  saveTemplate(
    target: MongoTarget,
    template: StoredTemplate,
    options: { mustBeNew: boolean },
  ): Promise<Outcome<{ created: boolean }>> {
    return this.run("saveTemplate", (client) =>
      collectionStore(client, target).saveTemplate(template, options),
    );
  }

  removeTemplate(target: MongoTarget, name: string): Promise<Outcome<boolean>> {
    return this.run("removeTemplate", (client) => collectionStore(client, target).removeTemplate(name));
  }

  ping(target: MongoTarget): Promise<Outcome<null>> {
    return this.run("ping", async (client) => {
      await client.db(target.database).command({ ping: 1 });
      return null;
    });
  }

  setup(target: MongoTarget): Promise<Outcome<string[]>> {
    return this.run("setup", (client) => collectionStore(client, target).setup());
  }

  /** As of the last connection attempt or operation; never holds credentials. */
  connectionState(): ConnectionState {
    return this.state;
  }

  private async run<T>(what: string, operation: (client: MongoClient) => Promise<T>): Promise<Outcome<T>> {
    try {
      const value = await operation(await this.connected());
      this.state = "connected";
      return { ok: true, value };
    } catch (err) {
      const error = storeErrorFrom(err, `mongodb ${what}`);
      if (error.kind === "conflict") return { ok: false, kind: error.kind, message: error.message };
      log.warn("mongo_store_failed", { operation: what, kind: error.kind, ...scrubbed(err) });
      this.state = `error: ${error.message}`;
      if (error.kind === "unavailable" || error.kind === "timeout") await this.drop();
      return { ok: false, kind: error.kind, message: error.message };
    }
  }

  /** The warm client, or one connection attempt shared by every request that arrives meanwhile. */
  private async connected(): Promise<MongoClient> {
    if (this.client) return this.client;
    this.connecting ??= this.openClient().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openClient(): Promise<MongoClient> {
    const url = this.url();
    if (!url)
      throw new StoreError("misconfigured", "MONGODB_URL is not set (required when CONFIG_STORE=mongodb)");
    this.state = "connecting";
    let client: MongoClient;
    try {
      client = new MongoClient(url, CLIENT_OPTIONS);
    } catch (err) {
      throw storeErrorFrom(err, "mongodb connect: reading MONGODB_URL");
    }
    try {
      await client.connect();
    } catch (err) {
      await closeQuietly(client);
      throw storeErrorFrom(err, "mongodb connect");
    }
    log.info("mongo_store_connected", {});
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await closeQuietly(client);
  }
}

function collectionStore(client: MongoClient, target: MongoTarget): MongoCollectionStore {
  return new MongoCollectionStore(client.db(target.database), { historyLimit: target.historyLimit });
}

/** Closing a client whose connection already failed may fail too; that is logged, not thrown. */
async function closeQuietly(client: MongoClient): Promise<void> {
  try {
    await client.close();
  } catch (err) {
    log.warn("mongo_store_close_failed", scrubbed(err));
  }
}

function scrubbed(err: unknown): { error: string } {
  return { error: scrubCredentials(String(errorFields(err).error)) };
}
