import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import { errorFields, log } from "../log.ts";
import { type ConfigPage, type ConfigQuery, mongoConfigPipeline, pageFromFacet } from "./config-query.ts";
import { configFromDocument } from "./document.ts";
import {
  type ChangeInfo,
  type Revision,
  type RevisionPage,
  type RevisionQuery,
  revisionOf,
  SYSTEM_ACTOR,
  sameSettings,
  summaryOf,
} from "./revision.ts";
import { type PutOptions, type StoredTemplate, StoreError } from "./store.ts";

/**
 * Documents and their history in MongoDB, the same rules whichever way MongoDB is reached (the
 * driver, src/stores/mongo-collection.ts, or the Data API, src/stores/data-api.ts): each
 * supplies the primitive operations below, this module decides what to do with them.
 *
 * Collections: `phone_configs` (one document per number, unique phone_number) and
 * `phone_config_versions` (one document per revision, unique (phone_number, version)).
 *
 * A write of version N+1 over version N, with no transaction:
 * 1. insert the revision {phone_number, version: N+1, ...}. The unique index lets one writer
 *    alone hold N+1: a second one gets a duplicate key, a conflict, before touching anything.
 * 2. the conditional document write: replace where {phone_number, version: N} (or insert where
 *    absent for a new number). Matching nothing means the document moved on or went away: our
 *    revision is deleted again (by its write_id) and the write is a conflict.
 * 3. drop revisions older than the newest `historyLimit`.
 *
 * Orphans: if step 2 never happens (a crash, a timeout whose outcome is unknown), revision
 * N+1 stays while the document is at N. Readers ignore it: every history read is bounded by
 * the document's current version, so an orphan is invisible. A writer that finds one in its way
 * (a duplicate key while the document is still at N) deletes it once it is older than
 * ORPHAN_AFTER_MS, far beyond any write's timeout, so an in-flight writer is never mistaken for
 * an orphan, and tries again.
 */

export type Doc = Record<string, unknown>;

export const COLLECTION_NAME = "phone_configs";
export const VERSIONS_COLLECTION_NAME = "phone_config_versions";
/** User templates, one document per name (unique). */
export const TEMPLATES_COLLECTION_NAME = "config_templates";

/** A revision younger than this may belong to a writer still between steps 1 and 2. */
export const ORPHAN_AFTER_MS = 60_000;

/** Attempts of a write that has no expected version (create or replace) before it is a conflict. */
const WRITE_ATTEMPTS = 32;

/** What one MongoDB access path must offer; every method maps its failures to StoreError. */
export interface MongoOps {
  findConfig(phone: E164): Promise<Doc | null>;
  listConfigs(includeInactive: boolean): Promise<Doc[]>;
  /** Runs an aggregation pipeline on the configs collection (mongoConfigPipeline's stages only). */
  aggregateConfigs(pipeline: Doc[]): Promise<Doc[]>;
  /** Insert when no document has this number (upsert of $setOnInsert only); false when one exists. */
  insertConfig(doc: Doc): Promise<boolean>;
  /** Replace where {phone_number, version}; version 0 matches a document without one. False: no match. */
  replaceConfig(phone: E164, version: number, doc: Doc): Promise<boolean>;
  deleteConfig(phone: E164): Promise<boolean>;
  /** "duplicate" when (phone_number, version) is taken: the unique index refused it. */
  insertRevision(doc: Doc): Promise<"inserted" | "duplicate">;
  findRevision(phone: E164, version: number): Promise<Doc | null>;
  /** Versions ≤ maxVersion (and < before), newest first, at most `limit` (all when omitted). */
  findRevisions(
    phone: E164,
    range: { maxVersion: number; before?: number | undefined; limit?: number; versionsOnly?: boolean },
  ): Promise<Doc[]>;
  /** Deletes revisions of the number: all, those ≤ maxVersion, or the one with this write_id. */
  deleteRevisions(phone: E164, which: { maxVersion?: number; writeId?: string }): Promise<number>;
  /** User templates (by name when given), ordered by name. */
  findTemplates(name?: string): Promise<Doc[]>;
  /** Inserts, or (`replace`) replaces by name; "duplicate" when inserting a taken name. */
  writeTemplate(doc: Doc, replace: boolean): Promise<"inserted" | "replaced" | "duplicate">;
  deleteTemplate(name: string): Promise<boolean>;
}

function configDocument(config: PhoneConfig): Doc {
  return { ...config, created_at: new Date(config.created_at), updated_at: new Date(config.updated_at) };
}

/**
 * `write_id` names the writer (so it can take back its own revision); `write_started_at` is
 * the wall clock when it started, which the orphan rule reads: `written_at` is the write's
 * logical time, which a caller may set anywhere.
 */
function revisionDocument(revision: Revision, writeId: string): Doc {
  return {
    ...revision,
    config: configDocument(revision.config),
    written_at: new Date(revision.written_at),
    write_id: writeId,
    write_started_at: new Date(),
  };
}

function revisionFrom(doc: Doc): Revision {
  const config = configFromDocument(doc.config as Doc);
  return {
    phone_number: config.phone_number,
    version: config.version,
    config,
    changed_fields: (doc.changed_fields as string[] | undefined) ?? [],
    written_at: config.updated_at,
    actor: typeof doc.actor === "string" ? doc.actor : SYSTEM_ACTOR,
    reason: typeof doc.reason === "string" ? doc.reason : null,
    template: typeof doc.template === "string" ? doc.template : null,
  };
}

function templateFrom(doc: Doc): StoredTemplate {
  const updated = doc.updated_at;
  return {
    name: String(doc.name),
    description: typeof doc.description === "string" ? doc.description : "",
    settings: (doc.settings ?? {}) as StoredTemplate["settings"],
    updated_at: updated instanceof Date ? updated.toISOString() : String(updated),
  };
}

export class MongoDocuments {
  private readonly ops: MongoOps;
  private readonly historyLimit: number;
  private readonly where: string;

  constructor(ops: MongoOps, options: { historyLimit: number; where: string }) {
    this.ops = ops;
    this.historyLimit = options.historyLimit;
    this.where = options.where;
  }

  async get(phone: E164): Promise<PhoneConfig | null> {
    const doc = await this.ops.findConfig(phone);
    return doc ? configFromDocument(doc) : null;
  }

  async list(includeInactive: boolean): Promise<PhoneConfig[]> {
    return (await this.ops.listConfigs(includeInactive)).map(configFromDocument);
  }

  /** A ConfigQuery as one aggregation: $match, then $facet of the count and the sorted page. */
  async query(query: ConfigQuery): Promise<ConfigPage> {
    return pageFromFacet(await this.ops.aggregateConfigs(mongoConfigPipeline(query)), configFromDocument);
  }

  async put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    const change = options.change ?? { actor: SYSTEM_ACTOR };
    if (options.expectedVersion !== undefined) {
      const current = await this.get(phone);
      if ((current?.version ?? 0) !== options.expectedVersion) {
        throw new StoreError(
          "conflict",
          `${phone} changed while it was being updated (expected version ${options.expectedVersion}, found ${current?.version ?? "none"})`,
        );
      }
      return this.commit(phone, current, settings, options.now, change, options.writeId);
    }
    // Create or replace: whatever version is current when the write lands.
    return this.retrying(async () => {
      const current = await this.get(phone);
      return this.commit(phone, current, settings, options.now, change, options.writeId);
    });
  }

  async deactivate(phone: E164, now: Date, change: ChangeInfo = { actor: SYSTEM_ACTOR }) {
    return this.retrying(async () => {
      const current = await this.get(phone);
      if (!current) return null;
      const { phone_number: _p, created_at: _c, updated_at: _u, version: _v, ...settings } = current;
      return (await this.commit(phone, current, { ...settings, is_active: false }, now, change)).config;
    });
  }

  /** The document first, so no reader meets a document whose history is half gone. */
  async remove(phone: E164): Promise<boolean> {
    const removed = await this.ops.deleteConfig(phone);
    // Also run when the document was already gone: clears what an interrupted remove left.
    const revisions = await this.ops.deleteRevisions(phone, {});
    return removed || revisions > 0;
  }

  async revisions(phone: E164, query: RevisionQuery): Promise<RevisionPage> {
    const current = await this.get(phone);
    if (!current) return { total: 0, versions: [] };
    const maxVersion = current.version;
    const [all, page] = await Promise.all([
      this.ops.findRevisions(phone, { maxVersion, versionsOnly: true }),
      this.ops.findRevisions(phone, { maxVersion, before: query.before, limit: query.limit }),
    ]);
    return { total: all.length, versions: page.map((doc) => summaryOf(revisionFrom(doc))) };
  }

  async revision(phone: E164, version: number): Promise<Revision | null> {
    const current = await this.get(phone);
    // Above the current version is an orphan (see the top of this file): not history.
    if (!current || version > current.version) return null;
    const doc = await this.ops.findRevision(phone, version);
    return doc ? revisionFrom(doc) : null;
  }

  async templates(): Promise<StoredTemplate[]> {
    return (await this.ops.findTemplates()).map(templateFrom);
  }

  async template(name: string): Promise<StoredTemplate | null> {
    const [doc] = await this.ops.findTemplates(name);
    return doc ? templateFrom(doc) : null;
  }

  async saveTemplate(template: StoredTemplate, options: { mustBeNew: boolean }) {
    const doc = { ...template, updated_at: new Date(template.updated_at) };
    const outcome = await this.ops.writeTemplate(doc, !options.mustBeNew);
    if (outcome === "duplicate")
      throw new StoreError("conflict", `template "${template.name}" already exists`);
    return { created: outcome === "inserted" };
  }

  removeTemplate(name: string): Promise<boolean> {
    return this.ops.deleteTemplate(name);
  }

  /**
   * Steps 1-3 (top of file) of writing `settings` over `current`; settings that are already
   * current write nothing (no version), and `current` is the answer.
   */
  private async commit(
    phone: E164,
    current: PhoneConfig | null,
    settings: PhoneSettings,
    now: Date,
    change: ChangeInfo,
    givenWriteId?: string,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    if (current && sameSettings(current, settings)) return { config: current, created: false };
    const version = (current?.version ?? 0) + 1;
    const nowIso = now.toISOString();
    let config: PhoneConfig = {
      phone_number: phone,
      ...settings,
      created_at: current?.created_at ?? nowIso,
      updated_at: nowIso,
      version,
    };
    const writeId = givenWriteId ?? crypto.randomUUID();
    const revision = revisionDocument(revisionOf(current, config, change), writeId);
    let document = configDocument(config);
    // Set when this write's revision was already written by an earlier attempt of the same write.
    let adopted = false;
    if ((await this.ops.insertRevision(revision)) === "duplicate") {
      const earlier = givenWriteId ? await this.ops.findRevision(phone, version) : null;
      if (earlier?.write_id === writeId) {
        // An earlier attempt of this same write stopped after its revision: finish it with
        // exactly the document that revision holds.
        const finished = configFromDocument(earlier.config as Doc);
        document = configDocument(finished);
        config = finished;
        adopted = true;
      } else if (!(await this.clearedOrphan(phone, version))) {
        throw new StoreError("conflict", `${phone} version ${version} was just written by another change`);
      } else if ((await this.ops.insertRevision(revision)) === "duplicate") {
        throw new StoreError("conflict", `${phone} version ${version} was just written by another change`);
      }
    }

    const written = current
      ? await this.ops.replaceConfig(phone, current.version, document)
      : await this.ops.insertConfig(document);
    if (!written) {
      // An adopted revision may be the earlier attempt's, landing now: not ours to take back.
      if (!adopted) await this.ops.deleteRevisions(phone, { writeId });
      throw new StoreError(
        "conflict",
        current
          ? `${phone} changed while it was being updated (it is no longer at version ${current.version})`
          : `${phone} was created by a concurrent write`,
      );
    }

    if (version > this.historyLimit) {
      try {
        await this.ops.deleteRevisions(phone, { maxVersion: version - this.historyLimit });
      } catch (err) {
        // The write itself is done; a revision kept too long is dropped by the next write.
        log.warn("config_history_prune_failed", {
          where: this.where,
          phone_number: phone,
          ...errorFields(err),
        });
      }
    }
    return { config, created: !current };
  }

  /** Deletes revision `version` if it is an orphan (the document is still below it, and it is old). */
  private async clearedOrphan(phone: E164, version: number): Promise<boolean> {
    const [current, blocking] = await Promise.all([this.get(phone), this.ops.findRevision(phone, version)]);
    if (!blocking || (current?.version ?? 0) >= version) return false;
    const started = blocking.write_started_at;
    const age = started instanceof Date ? Date.now() - started.getTime() : Number.NaN;
    if (!(age > ORPHAN_AFTER_MS) || typeof blocking.write_id !== "string") return false;
    log.warn("config_orphan_revision_removed", { where: this.where, phone_number: phone, version });
    return (await this.ops.deleteRevisions(phone, { writeId: blocking.write_id })) > 0;
  }

  /** Runs a read-then-conditional-write again when another write got in between. */
  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof StoreError) || err.kind !== "conflict" || i >= WRITE_ATTEMPTS) throw err;
        // A little jitter so racing writers stop colliding in lockstep.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * i));
      }
    }
  }
}
