import type { Collection, Document, IndexDescription } from "mongodb";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { configFromDocument } from "./document.ts";
import { storeErrorFrom } from "./mongo-errors.ts";
import { type PutOptions, StoreError } from "./store.ts";
import { versionedWrite } from "./versioned-write.ts";

/**
 * The store operations against one MongoDB collection through the official driver, shared by
 * the Worker's Durable Object (src/stores/mongodb.ts) and `npm run setup:db` (Node).
 *
 * Documents are flat: `phone_number` (E.164), every setting under its PhoneConfig name,
 * `created_at`/`updated_at` as BSON dates and `version` as a number. Every write is one atomic
 * findAndModify that returns the document as written, so no read follows a write. Failures
 * are StoreErrors (see mongo-errors.ts), their messages free of credentials.
 */

export const COLLECTION_NAME = "phone_configs";

const INDEXES: (IndexDescription & { name: string })[] = [
  // One document per number; also what turns two racing creates into a conflict.
  { key: { phone_number: 1 }, name: "phone_number_1", unique: true },
  // Listing active numbers.
  { key: { is_active: 1 }, name: "is_active_1" },
];

const NAMESPACE_NOT_FOUND = 26;

export class MongoCollectionStore {
  private readonly collection: Collection<Document>;
  private readonly where: string;

  constructor(collection: Collection<Document>) {
    this.collection = collection;
    this.where = `mongodb ${collection.namespace}`;
  }

  async get(phone: E164): Promise<PhoneConfig | null> {
    const doc = await this.run(`get ${phone}`, () => this.collection.findOne({ phone_number: phone }));
    return doc ? configFromDocument(doc) : null;
  }

  async list(includeInactive: boolean): Promise<PhoneConfig[]> {
    const docs = await this.run("list", () =>
      this.collection
        .find(includeInactive ? {} : { is_active: true })
        .sort({ phone_number: 1 })
        .toArray(),
    );
    return docs.map(configFromDocument);
  }

  /** One atomic findOneAndUpdate (see versionedWrite) that also returns the document as written. */
  async put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    const { now, expectedVersion } = options;
    const write = versionedWrite(phone, settings, now, expectedVersion);
    const result = await this.run(`put ${phone}`, () =>
      this.collection.findOneAndUpdate(write.filter, write.update, {
        upsert: write.upsert,
        returnDocument: "after",
        includeResultMetadata: true,
      }),
    );
    const created = result.lastErrorObject?.updatedExisting === false && result.value !== null;
    if (expectedVersion === 0 && !created) {
      throw new StoreError("conflict", `${phone} already exists (expected it not to exist)`);
    }
    if (!result.value) {
      throw new StoreError(
        "conflict",
        `${phone} changed while it was being updated (expected version ${expectedVersion}; it has a different version or no longer exists)`,
      );
    }
    return { config: configFromDocument(result.value), created };
  }

  async deactivate(phone: E164, now: Date): Promise<PhoneConfig | null> {
    const doc = await this.run(`deactivate ${phone}`, () =>
      this.collection.findOneAndUpdate(
        { phone_number: phone },
        { $set: { is_active: false, updated_at: now }, $inc: { version: 1 } },
        { returnDocument: "after" },
      ),
    );
    return doc ? configFromDocument(doc) : null;
  }

  async remove(phone: E164): Promise<boolean> {
    const { deletedCount } = await this.run(`remove ${phone}`, () =>
      this.collection.deleteOne({ phone_number: phone }),
    );
    return deletedCount > 0;
  }

  /** Creates the indexes that are missing; says for each whether it was created or already there. */
  async setup(): Promise<string[]> {
    const existing = await this.run("setup: list indexes", () => this.existingIndexes());
    const lines: string[] = [];
    const missing: IndexDescription[] = [];
    for (const wanted of INDEXES) {
      const found = existing.find((index) => index.name === wanted.name);
      const what = `index ${wanted.name}${wanted.unique ? " (unique)" : ""} on ${this.collection.namespace}`;
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
      await this.run("setup: create indexes", () => this.collection.createIndexes(missing));
    }
    return lines;
  }

  /** No collection yet is a normal first run: it has no indexes. */
  private async existingIndexes(): Promise<Document[]> {
    try {
      return await this.collection.listIndexes().toArray();
    } catch (err) {
      if ((err as { code?: unknown }).code === NAMESPACE_NOT_FOUND) return [];
      throw err;
    }
  }

  private async run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw storeErrorFrom(err, `${this.where} ${what}`);
    }
  }
}
