import type { Collection, Db, Document, IndexDescription } from "mongodb";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import type { ConfigPage, ConfigQuery } from "./config-query.ts";
import { storeErrorFrom } from "./mongo-errors.ts";
import {
  COLLECTION_NAME,
  MongoDocuments,
  type MongoOps,
  TEMPLATES_COLLECTION_NAME,
  VERSIONS_COLLECTION_NAME,
} from "./mongo-revisions.ts";
import type { ChangeInfo, Revision, RevisionPage, RevisionQuery } from "./revision.ts";
import { DEFAULT_HISTORY_LIMIT, type PutOptions, type StoredTemplate, StoreError } from "./store.ts";

/**
 * The store operations against one MongoDB database through the official driver, shared by
 * the Worker's Durable Object (src/stores/mongodb.ts) and `npm run setup:db` (Node).
 *
 * Documents are flat: `phone_number` (E.164), every setting under its PhoneConfig name,
 * `created_at`/`updated_at` as BSON dates and `version` as a number; their revisions live in
 * `phone_config_versions` (src/stores/mongo-revisions.ts says how the two are written).
 * Failures are StoreErrors (see mongo-errors.ts), their messages free of credentials.
 */

export { COLLECTION_NAME, TEMPLATES_COLLECTION_NAME, VERSIONS_COLLECTION_NAME };

type Index = IndexDescription & { name: string };

const INDEXES: { collection: string; index: Index }[] = [
  // One document per number; also what turns two racing creates into a conflict.
  { collection: COLLECTION_NAME, index: { key: { phone_number: 1 }, name: "phone_number_1", unique: true } },
  // Listing active numbers.
  { collection: COLLECTION_NAME, index: { key: { is_active: 1 }, name: "is_active_1" } },
  // One revision per version: two concurrent writers can never both write version N.
  {
    collection: VERSIONS_COLLECTION_NAME,
    index: { key: { phone_number: 1, version: 1 }, name: "phone_number_1_version_1", unique: true },
  },
  // One user template per name.
  { collection: TEMPLATES_COLLECTION_NAME, index: { key: { name: 1 }, name: "name_1", unique: true } },
];

const NAMESPACE_NOT_FOUND = 26;
const DUPLICATE_KEY = 11000;

export class MongoCollectionStore {
  private readonly db: Db;
  private readonly configs: Collection<Document>;
  private readonly versions: Collection<Document>;
  private readonly templates_: Collection<Document>;
  private readonly where: string;
  private readonly documents: MongoDocuments;

  constructor(db: Db, options: { historyLimit?: number } = {}) {
    this.db = db;
    this.configs = db.collection(COLLECTION_NAME);
    this.versions = db.collection(VERSIONS_COLLECTION_NAME);
    this.templates_ = db.collection(TEMPLATES_COLLECTION_NAME);
    this.where = `mongodb ${this.configs.namespace}`;
    this.documents = new MongoDocuments(this.ops(), {
      historyLimit: options.historyLimit ?? DEFAULT_HISTORY_LIMIT,
      where: this.where,
    });
  }

  get(phone: E164): Promise<PhoneConfig | null> {
    return this.documents.get(phone);
  }

  list(includeInactive: boolean): Promise<PhoneConfig[]> {
    return this.documents.list(includeInactive);
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

  /** Creates the indexes that are missing; says for each whether it was created or already there. */
  async setup(): Promise<string[]> {
    const lines: string[] = [];
    for (const name of [COLLECTION_NAME, VERSIONS_COLLECTION_NAME, TEMPLATES_COLLECTION_NAME]) {
      const collection = this.db.collection(name);
      const existing = await this.run("setup: list indexes", () => existingIndexes(collection));
      const missing: IndexDescription[] = [];
      for (const { index: wanted } of INDEXES.filter((i) => i.collection === name)) {
        const found = existing.find((index) => index.name === wanted.name);
        const what = `index ${wanted.name}${wanted.unique ? " (unique)" : ""} on ${collection.namespace}`;
        if (!found) {
          missing.push(wanted);
          lines.push(`mongodb store: created ${what}`);
        } else if (Boolean(found.unique) !== Boolean(wanted.unique)) {
          throw new StoreError(
            "misconfigured",
            `${this.where}: ${what} exists with different options (${JSON.stringify(found)}); drop it and run setup again`,
          );
        } else {
          lines.push(`mongodb store: ${what} already present`);
        }
      }
      if (missing.length > 0) {
        await this.run("setup: create indexes", () => collection.createIndexes(missing));
      }
    }
    return lines;
  }

  /** The primitive operations of MongoDocuments (src/stores/mongo-revisions.ts) through the driver. */
  private ops(): MongoOps {
    const versionFilter = (phone: E164, version: number) => ({
      phone_number: phone,
      version: version === 0 ? { $exists: false } : version,
    });
    return {
      findConfig: (phone) =>
        this.run(`get ${phone}`, () =>
          this.configs.findOne({ phone_number: phone }, { projection: { _id: 0 } }),
        ),
      listConfigs: (includeInactive) =>
        this.run("list", () =>
          this.configs
            .find(includeInactive ? {} : { is_active: true }, { projection: { _id: 0 } })
            .sort({ phone_number: 1 })
            .toArray(),
        ),
      aggregateConfigs: (pipeline) => this.run("query", () => this.configs.aggregate(pipeline).toArray()),
      insertConfig: async (doc) => {
        try {
          const result = await this.configs.updateOne(
            { phone_number: doc.phone_number },
            { $setOnInsert: doc },
            { upsert: true },
          );
          return result.upsertedCount > 0;
        } catch (err) {
          // Two racing upserts: the unique index on phone_number refused the second.
          if ((err as { code?: unknown }).code === DUPLICATE_KEY) return false;
          throw storeErrorFrom(err, `${this.where} create ${String(doc.phone_number)}`);
        }
      },
      replaceConfig: async (phone, version, doc) =>
        (await this.run(`put ${phone}`, () => this.configs.replaceOne(versionFilter(phone, version), doc)))
          .matchedCount > 0,
      deleteConfig: async (phone) =>
        (await this.run(`remove ${phone}`, () => this.configs.deleteOne({ phone_number: phone })))
          .deletedCount > 0,
      insertRevision: async (doc) => {
        try {
          await this.versions.insertOne({ ...doc });
          return "inserted";
        } catch (err) {
          if ((err as { code?: unknown }).code === DUPLICATE_KEY) return "duplicate";
          throw storeErrorFrom(err, `mongodb ${this.versions.namespace} insert revision`);
        }
      },
      findRevision: (phone, version) =>
        this.run(`revision ${phone} ${version}`, () =>
          this.versions.findOne({ phone_number: phone, version }, { projection: { _id: 0 } }),
        ),
      findRevisions: (phone, range) =>
        this.run(`revisions ${phone}`, () => {
          const cursor = this.versions
            .find(
              {
                phone_number: phone,
                version: { $lte: range.maxVersion, ...(range.before !== undefined && { $lt: range.before }) },
              },
              { projection: range.versionsOnly ? { _id: 0, version: 1 } : { _id: 0 } },
            )
            .sort({ version: -1 });
          return (range.limit !== undefined ? cursor.limit(range.limit) : cursor).toArray();
        }),
      findTemplates: (name) =>
        this.run("templates", () =>
          this.templates_
            .find(name === undefined ? {} : { name }, { projection: { _id: 0 } })
            .sort({ name: 1 })
            .toArray(),
        ),
      writeTemplate: async (doc, replace) => {
        try {
          if (replace) {
            const result = await this.templates_.replaceOne({ name: doc.name }, doc, { upsert: true });
            return result.matchedCount > 0 ? "replaced" : "inserted";
          }
          await this.templates_.insertOne({ ...doc });
          return "inserted";
        } catch (err) {
          if (!replace && (err as { code?: unknown }).code === DUPLICATE_KEY) return "duplicate";
          throw storeErrorFrom(err, `mongodb ${this.templates_.namespace} save template`);
        }
      },
      deleteTemplate: async (name) =>
        (await this.run(`delete template ${name}`, () => this.templates_.deleteOne({ name }))).deletedCount >
        0,
      deleteRevisions: async (phone, which) =>
        (
          await this.run(`delete revisions ${phone}`, () =>
            this.versions.deleteMany({
              phone_number: phone,
              ...(which.maxVersion !== undefined && { version: { $lte: which.maxVersion } }),
              ...(which.writeId !== undefined && { write_id: which.writeId }),
            }),
          )
        ).deletedCount,
    };
  }

  private async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw storeErrorFrom(err, `${this.where} ${what}`);
    }
  }
}

/** No collection yet is a normal first run: it has no indexes. */
async function existingIndexes(collection: Collection<Document>): Promise<Document[]> {
  try {
    return await collection.listIndexes().toArray();
  } catch (err) {
    if ((err as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return [];
    throw err;
  }
}
