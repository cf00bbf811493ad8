import { DurableObject } from "cloudflare:workers";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { settingsOf } from "../env.ts";
import { assertPageBounds, type ConfigPage, type ConfigQuery } from "./config-query.ts";
import { lazyStub } from "./lazy-stub.ts";
import type { ConnectionState, MongoConnection, MongoTarget, Outcome } from "./mongo-connection.ts";
import type { ChangeInfo, Revision, RevisionPage, RevisionQuery } from "./revision.ts";
import {
  type ConfigStore,
  DEFAULT_HISTORY_LIMIT,
  type PutOptions,
  type StoredTemplate,
  StoreError,
} from "./store.ts";

/**
 * MongoDB (Atlas or any server) through the official driver, over workerd's node:net/node:tls
 * (`nodejs_compat`). The driver's client lives in a Durable Object so its pooled, already
 * authenticated TLS connections outlive a request: a warm query costs one round trip instead of
 * TCP + TLS + SCRAM handshakes. Database names are arguments so one client serves any database
 * (production passes MONGODB_DB_NAME; tests isolate themselves by database).
 */

export type { ConnectionState, MongoTarget, Outcome };

export class MongoConfigStore extends DurableObject<Env> {
  private connection: Promise<MongoConnection> | undefined;

  async get(target: MongoTarget, phone: E164): Promise<Outcome<PhoneConfig | null>> {
    return (await this.open()).get(target, phone);
  }

  async list(target: MongoTarget, includeInactive: boolean): Promise<Outcome<PhoneConfig[]>> {
    return (await this.open()).list(target, includeInactive);
  }

  async query(target: MongoTarget, query: ConfigQuery): Promise<Outcome<ConfigPage>> {
    return (await this.open()).query(target, query);
  }

  async put(
    target: MongoTarget,
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<Outcome<{ config: PhoneConfig; created: boolean }>> {
    return (await this.open()).put(target, phone, settings, options);
  }

  async deactivate(
    target: MongoTarget,
    phone: E164,
    now: Date,
    change?: ChangeInfo,
  ): Promise<Outcome<PhoneConfig | null>> {
    return (await this.open()).deactivate(target, phone, now, change);
  }

  async remove(target: MongoTarget, phone: E164): Promise<Outcome<boolean>> {
    return (await this.open()).remove(target, phone);
  }

  async revisions(target: MongoTarget, phone: E164, query: RevisionQuery): Promise<Outcome<RevisionPage>> {
    return (await this.open()).revisions(target, phone, query);
  }

  async revision(target: MongoTarget, phone: E164, version: number): Promise<Outcome<Revision | null>> {
    return (await this.open()).revision(target, phone, version);
  }

  async templates(target: MongoTarget): Promise<Outcome<StoredTemplate[]>> {
    return (await this.open()).templates(target);
  }

  async template(target: MongoTarget, name: string): Promise<Outcome<StoredTemplate | null>> {
    return (await this.open()).template(target, name);
  }

  async saveTemplate(
    target: MongoTarget,
    template: StoredTemplate,
    options: { mustBeNew: boolean },
  ): Promise<Outcome<{ created: boolean }>> {
    return (await this.open()).saveTemplate(target, template, options);
  }

  async removeTemplate(target: MongoTarget, name: string): Promise<Outcome<boolean>> {
    return (await this.open()).removeTemplate(target, name);
  }

  async ping(target: MongoTarget): Promise<Outcome<null>> {
    return (await this.open()).ping(target);
  }

  async setup(target: MongoTarget): Promise<Outcome<string[]>> {
    return (await this.open()).setup(target);
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
  private readonly stub: () => DurableObjectStub<MongoConfigStore>;
  private readonly target: MongoTarget;

  constructor(
    namespace: DurableObjectNamespace<MongoConfigStore>,
    options: { database: string; instanceName?: string; historyLimit?: number },
  ) {
    this.stub = lazyStub(namespace, options.instanceName ?? "mongodb-client");
    this.target = { database: options.database, historyLimit: options.historyLimit ?? DEFAULT_HISTORY_LIMIT };
  }

  get(phone: E164): Promise<PhoneConfig | null> {
    return this.call("get", () => this.stub().get(this.target, phone));
  }

  list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]> {
    return this.call("list", () => this.stub().list(this.target, filter.includeInactive));
  }

  async query(query: ConfigQuery): Promise<ConfigPage> {
    assertPageBounds(query);
    return this.call("query", () => this.stub().query(this.target, query));
  }

  put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    return this.call("put", () => this.stub().put(this.target, phone, settings, options));
  }

  deactivate(phone: E164, now: Date, change?: ChangeInfo): Promise<PhoneConfig | null> {
    return this.call("deactivate", () => this.stub().deactivate(this.target, phone, now, change));
  }

  remove(phone: E164): Promise<boolean> {
    return this.call("remove", () => this.stub().remove(this.target, phone));
  }

  revisions(phone: E164, query: RevisionQuery): Promise<RevisionPage> {
    return this.call("revisions", () => this.stub().revisions(this.target, phone, query));
  }

  revision(phone: E164, version: number): Promise<Revision | null> {
    return this.call("revision", () => this.stub().revision(this.target, phone, version));
  }

  templates(): Promise<StoredTemplate[]> {
    return this.call("templates", () => this.stub().templates(this.target));
  }

  template(name: string): Promise<StoredTemplate | null> {
    return this.call("template", () => this.stub().template(this.target, name));
  }

  saveTemplate(template: StoredTemplate, options: { mustBeNew: boolean }): Promise<{ created: boolean }> {
    return this.call("saveTemplate", () => this.stub().saveTemplate(this.target, template, options));
  }

  removeTemplate(name: string): Promise<boolean> {
    return this.call("removeTemplate", () => this.stub().removeTemplate(this.target, name));
  }

  async ping(): Promise<void> {
    await this.call("ping", () => this.stub().ping(this.target));
  }

  setup(): Promise<string[]> {
    return this.call("setup", () => this.stub().setup(this.target));
  }

  /** "connected" | "connecting" | "disconnected" | "error: <why>" (for health checks). */
  async connectionState(): Promise<string> {
    try {
      return await this.stub().connectionState();
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
