import { EJSON } from "bson";
import { z } from "zod";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import type { Settings } from "../env.ts";
import type { ConfigPage, ConfigQuery } from "./config-query.ts";
import {
  COLLECTION_NAME,
  MongoDocuments,
  type MongoOps,
  TEMPLATES_COLLECTION_NAME,
  VERSIONS_COLLECTION_NAME,
} from "./mongo-revisions.ts";
import type { ChangeInfo, Revision, RevisionPage, RevisionQuery } from "./revision.ts";
import {
  type ConfigStore,
  DEFAULT_HISTORY_LIMIT,
  type PutOptions,
  type StoredTemplate,
  StoreError,
} from "./store.ts";

/**
 * Phone configs in MongoDB reached over HTTPS with the Atlas Data API v1 wire format (Atlas
 * itself, or any gateway that speaks it), so the Worker needs no driver or TCP socket.
 *
 * Documents are flat: `phone_number` (E.164), every setting under its PhoneConfig name,
 * `created_at`/`updated_at` as BSON dates and `version` as a number; their history is in
 * `phone_config_versions` (src/stores/mongo-revisions.ts says how the two are written). Request bodies are sent
 * as `application/ejson` because the Data API only reads `{"$date": ...}` as a date in an
 * EJSON body; responses are asked for as EJSON and decoded with the bson package, which
 * reads both the canonical (`{"$numberInt": "1"}`) and relaxed forms.
 */

export interface DataApiStoreOptions {
  /** The Data API base, e.g. https://data.mongodb-api.com/app/<app-id>/endpoint/data/v1 */
  url: string;
  apiKey: string;
  dataSource: string;
  database: string;
  /** default "phone_configs" */
  collection?: string;
  /** the history; default "phone_config_versions" */
  versionsCollection?: string;
  /** revisions kept per number (CONFIG_HISTORY_LIMIT) */
  historyLimit?: number;
  /** per request, including reading the response body */
  timeoutMs: number;
}

type Action =
  | "findOne"
  | "find"
  | "aggregate"
  | "insertOne"
  | "updateOne"
  | "replaceOne"
  | "deleteOne"
  | "deleteMany";
type Doc = Record<string, unknown>;

const DocSchema = z.record(z.string(), z.unknown());
const RESPONSES = {
  findOne: z.object({ document: DocSchema.nullable() }),
  find: z.object({ documents: z.array(DocSchema) }),
  aggregate: z.object({ documents: z.array(DocSchema) }),
  updateOne: z.object({
    matchedCount: z.number(),
    modifiedCount: z.number(),
    upsertedId: z.unknown().optional(),
  }),
  insertOne: z.object({ insertedId: z.unknown() }),
  replaceOne: z.object({ matchedCount: z.number(), modifiedCount: z.number() }),
  deleteOne: z.object({ deletedCount: z.number() }),
  deleteMany: z.object({ deletedCount: z.number() }),
} satisfies Record<Action, z.ZodType>;

const DUPLICATE_KEY = /E11000|duplicate key/i;

/** The store's options from the Worker's settings (env.ts has checked URL and key are set). */
export function dataApiOptions(settings: Settings): DataApiStoreOptions {
  return {
    url: settings.DATA_API_URL as string,
    apiKey: settings.DATA_API_KEY as string,
    dataSource: settings.DATA_API_DATA_SOURCE,
    database: settings.MONGODB_DB_NAME,
    timeoutMs: settings.CONFIG_STORE_TIMEOUT_MS,
    historyLimit: settings.CONFIG_HISTORY_LIMIT,
  };
}

export class DataApiStore implements ConfigStore {
  readonly backend = "data-api" as const;
  private readonly base: string;
  private readonly collection: string;
  private readonly versionsCollection: string;
  private readonly options: DataApiStoreOptions;
  private readonly documents: MongoDocuments;

  constructor(options: DataApiStoreOptions) {
    this.options = options;
    this.base = options.url.replace(/\/+$/, "");
    this.collection = options.collection ?? COLLECTION_NAME;
    this.versionsCollection = options.versionsCollection ?? VERSIONS_COLLECTION_NAME;
    this.documents = new MongoDocuments(this.ops(), {
      historyLimit: options.historyLimit ?? DEFAULT_HISTORY_LIMIT,
      where: `data-api ${options.database}.${this.collection}`,
    });
  }

  get(phone: E164): Promise<PhoneConfig | null> {
    return this.documents.get(phone);
  }

  list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]> {
    return this.documents.list(filter.includeInactive);
  }

  query(query: ConfigQuery): Promise<ConfigPage> {
    return this.documents.query(query);
  }

  put(phone: E164, settings: PhoneSettings, options: PutOptions) {
    return this.documents.put(phone, settings, options);
  }

  deactivate(phone: E164, now: Date, change?: ChangeInfo): Promise<PhoneConfig | null> {
    return this.documents.deactivate(phone, now, change);
  }

  remove(phone: E164): Promise<boolean> {
    return this.documents.remove(phone);
  }

  revisions(phone: E164, query: RevisionQuery): Promise<RevisionPage> {
    return this.documents.revisions(phone, query);
  }

  revision(phone: E164, version: number): Promise<Revision | null> {
    return this.documents.revision(phone, version);
  }

  templates(): Promise<StoredTemplate[]> {
    return this.documents.templates();
  }

  template(name: string): Promise<StoredTemplate | null> {
    return this.documents.template(name);
  }

  saveTemplate(template: StoredTemplate, options: { mustBeNew: boolean }) {
    return this.documents.saveTemplate(template, options);
  }

  removeTemplate(name: string): Promise<boolean> {
    return this.documents.removeTemplate(name);
  }

  async ping(): Promise<void> {
    await this.call("findOne", { filter: {}, projection: { _id: 1 } });
  }

  async setup(): Promise<string[]> {
    await this.ping();
    const where = `${this.options.database}.${this.collection}`;
    const versions = `${this.options.database}.${this.versionsCollection}`;
    return [
      `data-api store: reached ${where} through the Data API`,
      `data-api store: the Data API cannot create indexes; create them in Atlas (or the database behind your gateway): on ${where} { phone_number: 1 } with unique: true (keeps one document per number and turns racing creates into conflicts) and { is_active: 1 } (for listing active numbers); on ${versions} { phone_number: 1, version: 1 } with unique: true (one revision per version: what keeps two concurrent writers from both writing version N); on ${this.options.database}.${TEMPLATES_COLLECTION_NAME} { name: 1 } with unique: true`,
    ];
  }

  /** The primitive operations of MongoDocuments (src/stores/mongo-revisions.ts) as Data API actions. */
  private ops(): MongoOps {
    const configs = this.collection;
    const versions = this.versionsCollection;
    const templates = TEMPLATES_COLLECTION_NAME;
    const versionFilter = (phone: E164, version: number) => ({
      phone_number: phone,
      version: version === 0 ? { $exists: false } : version,
    });
    return {
      findConfig: async (phone) =>
        (await this.call("findOne", { filter: { phone_number: phone } }, configs)).document,
      listConfigs: async (includeInactive) =>
        (
          await this.call(
            "find",
            { filter: includeInactive ? {} : { is_active: true }, sort: { phone_number: 1 } },
            configs,
          )
        ).documents,
      aggregateConfigs: async (pipeline) => (await this.call("aggregate", { pipeline }, configs)).documents,
      insertConfig: async (doc) => {
        try {
          const result = await this.call(
            "updateOne",
            { filter: { phone_number: doc.phone_number }, update: { $setOnInsert: doc }, upsert: true },
            configs,
          );
          return result.upsertedId !== undefined && result.upsertedId !== null;
        } catch (err) {
          // Two racing upserts: the unique index on phone_number refused the second.
          if (err instanceof StoreError && err.kind === "conflict") return false;
          throw err;
        }
      },
      replaceConfig: async (phone, version, doc) =>
        (await this.call("replaceOne", { filter: versionFilter(phone, version), replacement: doc }, configs))
          .matchedCount > 0,
      deleteConfig: async (phone) =>
        (await this.call("deleteOne", { filter: { phone_number: phone } }, configs)).deletedCount > 0,
      insertRevision: async (doc) => {
        try {
          await this.call("insertOne", { document: doc }, versions);
          return "inserted";
        } catch (err) {
          if (err instanceof StoreError && err.kind === "conflict") return "duplicate";
          throw err;
        }
      },
      findRevision: async (phone, version) =>
        (await this.call("findOne", { filter: { phone_number: phone, version } }, versions)).document,
      findRevisions: async (phone, range) =>
        (
          await this.call(
            "find",
            {
              filter: {
                phone_number: phone,
                version: { $lte: range.maxVersion, ...(range.before !== undefined && { $lt: range.before }) },
              },
              sort: { version: -1 },
              ...(range.limit !== undefined && { limit: range.limit }),
              ...(range.versionsOnly && { projection: { version: 1 } }),
            },
            versions,
          )
        ).documents,
      findTemplates: async (name) =>
        (
          await this.call(
            "find",
            { filter: name === undefined ? {} : { name }, sort: { name: 1 }, projection: { _id: 0 } },
            templates,
          )
        ).documents,
      writeTemplate: async (doc, replace) => {
        if (replace) {
          const result = await this.call(
            "replaceOne",
            { filter: { name: doc.name }, replacement: doc, upsert: true },
            templates,
          );
          return result.matchedCount > 0 ? "replaced" : "inserted";
        }
        try {
          await this.call("insertOne", { document: doc }, templates);
          return "inserted";
        } catch (err) {
          if (err instanceof StoreError && err.kind === "conflict") return "duplicate";
          throw err;
        }
      },
      deleteTemplate: async (name) =>
        (await this.call("deleteOne", { filter: { name } }, templates)).deletedCount > 0,
      deleteRevisions: async (phone, which) =>
        (
          await this.call(
            "deleteMany",
            {
              filter: {
                phone_number: phone,
                ...(which.maxVersion !== undefined && { version: { $lte: which.maxVersion } }),
                ...(which.writeId !== undefined && { write_id: which.writeId }),
              },
            },
            versions,
          )
        ).deletedCount,
    };
  }

  /** POST one action; every failure becomes a StoreError whose message never holds the api key. */
  private async call<A extends Action>(
    action: A,
    args: Doc,
    collection = this.collection,
  ): Promise<z.output<(typeof RESPONSES)[A]>> {
    const what = `data-api ${action} on ${this.options.database}.${collection}`;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${this.base}/action/${action}`, {
        method: "POST",
        headers: {
          apiKey: this.options.apiKey,
          "Content-Type": "application/ejson",
          Accept: "application/ejson",
        },
        // Relaxed EJSON: a Date goes as {"$date": ...} and is stored as a BSON date, not a string.
        body: EJSON.stringify(
          {
            dataSource: this.options.dataSource,
            database: this.options.database,
            collection,
            ...args,
          },
          { relaxed: true },
        ),
        signal,
      });
      status = response.status;
      // Decoded by hand: a gateway may label EJSON `application/ejson`, which Response.text() treats as binary.
      text = new TextDecoder().decode(await response.arrayBuffer());
    } catch (cause) {
      if (signal.aborted) {
        throw new StoreError("timeout", `${what} took longer than ${this.options.timeoutMs} ms`, { cause });
      }
      throw new StoreError("unavailable", `${what} failed: could not reach the Data API`, { cause });
    }

    if (status < 200 || status > 299) throw this.httpError(what, status, text);

    let body: unknown;
    try {
      body = EJSON.parse(text, { relaxed: true });
    } catch (cause) {
      throw new StoreError(
        "bad_response",
        `${what}: the Data API answered ${status} with a body that is not JSON`,
        {
          cause,
        },
      );
    }
    const parsed = RESPONSES[action].safeParse(body);
    if (!parsed.success) {
      throw new StoreError("bad_response", `${what}: unexpected response shape`, { cause: parsed.error });
    }
    return parsed.data as z.output<(typeof RESPONSES)[A]>;
  }

  private httpError(what: string, status: number, text: string): StoreError {
    const gateway = this.redact(gatewayMessage(text));
    const cause = new Error(`HTTP ${status}: ${gateway}`);
    if (status === 401 || status === 403) {
      return new StoreError("auth", `${what} was refused (HTTP ${status}): ${gateway}; check DATA_API_KEY`, {
        cause,
      });
    }
    if (DUPLICATE_KEY.test(gateway)) {
      return new StoreError("conflict", `${what}: duplicate key: ${gateway}`, { cause });
    }
    return new StoreError("unavailable", `${what} failed (HTTP ${status}): ${gateway}`, { cause });
  }

  /** A gateway might echo request headers in an error; the key must not reach a log. */
  private redact(message: string): string {
    return message.split(this.options.apiKey).join("[redacted]");
  }
}

/** The Data API's `{"error": "...", "error_code": "..."}`, or the start of whatever else came back. */
function gatewayMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; error_code?: unknown };
    if (typeof body.error === "string") {
      return typeof body.error_code === "string" ? `${body.error_code}: ${body.error}` : body.error;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the raw text below is the best description.
  }
  return text.slice(0, 200) || "(empty body)";
}
