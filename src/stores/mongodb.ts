import { DurableObject } from "cloudflare:workers";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { settingsOf } from "../env.ts";
import type { ConnectionState, MongoConnection, Outcome } from "./mongo-connection.ts";
import { type ConfigStore, type PutOptions, StoreError } from "./store.ts";

/**
 * MongoDB (Atlas or any server) through the official driver, over workerd's node:net/node:tls
 * (`nodejs_compat`). The driver's client lives in a Durable Object so its pooled, already
 * authenticated TLS connections outlive a request: a warm query costs one round trip instead of
 * TCP + TLS + SCRAM handshakes. Database names are arguments so one client serves any database
 * (production passes MONGODB_DB_NAME; tests isolate themselves by database).
 */

export type { ConnectionState, Outcome };

export class MongoConfigStore extends DurableObject<Env> {
  private connection: Promise<MongoConnection> | undefined;

  async get(db: string, phone: E164): Promise<Outcome<PhoneConfig | null>> {
    return (await this.open()).get(db, phone);
  }

  async list(db: string, includeInactive: boolean): Promise<Outcome<PhoneConfig[]>> {
    return (await this.open()).list(db, includeInactive);
  }

  async put(
    db: string,
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<Outcome<{ config: PhoneConfig; created: boolean }>> {
    return (await this.open()).put(db, phone, settings, options);
  }

  async deactivate(db: string, phone: E164, now: Date): Promise<Outcome<PhoneConfig | null>> {
    return (await this.open()).deactivate(db, phone, now);
  }

  async remove(db: string, phone: E164): Promise<Outcome<boolean>> {
    return (await this.open()).remove(db, phone);
  }

  async ping(db: string): Promise<Outcome<null>> {
    return (await this.open()).ping(db);
  }

  async setup(db: string): Promise<Outcome<string[]>> {
    return (await this.open()).setup(db);
  }

  async connectionState(): Promise<ConnectionState> {
    return this.connection ? (await this.connection).connectionState() : "disconnected";
  }

  /**
   * The driver is most of the Worker's bundle and only this store uses it, so it is loaded on
   * first use: isolates serving another CONFIG_STORE never evaluate it.
   */
  private open(): Promise<MongoConnection> {
    this.connection ??= import("./mongo-connection.ts").then(
      ({ MongoConnection }) => new MongoConnection(() => settingsOf(this.env).MONGODB_URL),
    );
    return this.connection;
  }
}

/** The ConfigStore face of the Durable Object: one instance holds the client for every request. */
export class MongoStore implements ConfigStore {
  readonly backend = "mongodb" as const;
  private readonly stub: DurableObjectStub<MongoConfigStore>;
  private readonly database: string;

  constructor(
    namespace: DurableObjectNamespace<MongoConfigStore>,
    options: { database: string; instanceName?: string },
  ) {
    this.stub = namespace.get(namespace.idFromName(options.instanceName ?? "mongodb-client"));
    this.database = options.database;
  }

  get(phone: E164): Promise<PhoneConfig | null> {
    return this.call("get", () => this.stub.get(this.database, phone));
  }

  list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]> {
    return this.call("list", () => this.stub.list(this.database, filter.includeInactive));
  }

  put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    return this.call("put", () => this.stub.put(this.database, phone, settings, options));
  }

  deactivate(phone: E164, now: Date): Promise<PhoneConfig | null> {
    return this.call("deactivate", () => this.stub.deactivate(this.database, phone, now));
  }

  remove(phone: E164): Promise<boolean> {
    return this.call("remove", () => this.stub.remove(this.database, phone));
  }

  async ping(): Promise<void> {
    await this.call("ping", () => this.stub.ping(this.database));
  }

  setup(): Promise<string[]> {
    return this.call("setup", () => this.stub.setup(this.database));
  }

  /** "connected" | "connecting" | "disconnected" | "error: <why>" (for health checks). */
  async connectionState(): Promise<string> {
    try {
      return await this.stub.connectionState();
    } catch (cause) {
      throw new StoreError("unavailable", "mongodb store: its Durable Object did not answer", { cause });
    }
  }

  private async call<T>(what: string, rpc: () => Promise<Outcome<T>>): Promise<T> {
    let outcome: Outcome<T>;
    try {
      outcome = await rpc();
    } catch (cause) {
      throw new StoreError("unavailable", `mongodb store ${what}: its Durable Object did not answer`, {
        cause,
      });
    }
    if (!outcome.ok) throw new StoreError(outcome.kind, outcome.message);
    return outcome.value;
  }
}
