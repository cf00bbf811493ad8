import { AppError } from "../errors.ts";
import type { IfMatch } from "../http/change.ts";
import type { IdempotentWrite } from "../http/idempotency.ts";
import { validationError } from "../http/validation.ts";
import {
  type Revision,
  type RevisionPage,
  type RevisionQuery,
  sameSettings,
  settingsOf,
} from "../stores/revision.ts";
import { type ChangeInfo, type ConfigStore, StoreError } from "../stores/store.ts";
import type { E164 } from "./phone-number.ts";
import type { ConfigResolver } from "./resolver.ts";
import { type PhoneConfig, type PhoneSettings, SettingsSchema } from "./schema.ts";
import { decideWrite, expectedVersionOf, holds } from "./write-retry.ts";

const withExpected = (version: number | undefined) =>
  version === undefined ? {} : { expectedVersion: version };

/**
 * Every change to a number's configuration, whoever asks (admin routes, rollback, import):
 * preconditions (If-Match, a body's version), the store write (which records the revision),
 * then the cache write-through, so the next call uses the change at once.
 *
 * A read-modify-write without a precondition (a PUT of some fields, a rollback) is re-run on
 * the fresh document when another write got in between, so concurrent edits of different
 * fields all land, each as its own version. With a precondition, a lost race is a 412.
 */

/** Re-runs of an unconditioned read-modify-write that lost a race, before it is a 409. */
const ATTEMPTS = 32;

export function notFound(phone: string): AppError {
  return new AppError(
    "NOT_FOUND",
    `Configuration not found for ${phone}. Use POST /admin/phone-config to create one.`,
  );
}

export function preconditionFailed(phone: string, current: number): AppError {
  return new AppError(
    "PRECONDITION_FAILED",
    `${phone} is at version ${current}, which If-Match does not name; read it again (its ETag is "${current}") and retry`,
    {
      details: [{ field: "If-Match", rule: "precondition", message: `the current version is ${current}` }],
      facts: { current_version: current },
    },
  );
}

/**
 * 412 unless If-Match names the current version (`*`: any). With no document there is nothing to
 * match (RFC 9110 §13.1.1), so any If-Match fails: a create must be sent without it.
 */
function checkIfMatch(phone: string, current: PhoneConfig | null, ifMatch: IfMatch | undefined): void {
  if (ifMatch && !current) {
    throw new AppError(
      "PRECONDITION_FAILED",
      `${phone} has no configuration, so If-Match cannot match; send the write without If-Match to create it`,
      { details: [{ field: "If-Match", rule: "precondition", message: "no current version to match" }] },
    );
  }
  if (current && ifMatch && !ifMatch.any && !ifMatch.versions.includes(current.version)) {
    throw preconditionFailed(phone, current.version);
  }
}

export interface Preconditions {
  ifMatch?: IfMatch | undefined;
  /** a body's `version`: a mismatch is a 409, as before ETags existed */
  version?: number | undefined;
  /**
   * An Idempotency-Key: the write is conditional on the version read, and a retry that finds
   * the first attempt applied writes nothing (src/config/write-retry.ts).
   */
  idempotency?: IdempotentWrite | undefined;
}

/** What an import or a rollback did to one number. */
export type ApplyOutcome = "created" | "updated" | "unchanged";

export class ConfigChanges {
  private readonly store: ConfigStore;
  private readonly resolver: ConfigResolver;

  constructor(store: ConfigStore, resolver: ConfigResolver) {
    this.store = store;
    this.resolver = resolver;
  }

  /**
   * Create or replace (POST): whatever version is current, unless If-Match (412 when it does not
   * name the current version, or there is none) or an Idempotency-Key makes it conditional.
   */
  async save(
    phone: E164,
    settings: PhoneSettings,
    change: ChangeInfo,
    pre: Pick<Preconditions, "idempotency" | "ifMatch"> = {},
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    const { idempotency: idem, ifMatch } = pre;
    let result: { config: PhoneConfig; created: boolean };
    if (!idem && !ifMatch) {
      result = await this.store.put(phone, settings, { now: new Date(), change });
    } else {
      const existing = await this.store.get(phone);
      const decision = await decideWrite(idem, phone, existing, (current) => holds(current, settings));
      if (decision === "applied" && existing) {
        result = { config: existing, created: idem?.previous?.baseVersion === 0 };
      } else {
        checkIfMatch(phone, existing, ifMatch);
        try {
          result = await this.store.put(phone, settings, {
            now: new Date(),
            change,
            ...(idem && { writeId: idem.id }),
            ...withExpected(expectedVersionOf(existing)),
          });
        } catch (err) {
          if (!ifMatch || !(err instanceof StoreError) || err.kind !== "conflict") throw err;
          const now = await this.store.get(phone);
          throw now ? preconditionFailed(phone, now.version) : err;
        }
      }
    }
    await this.resolver.publish(phone, result.config);
    return result;
  }

  /**
   * Writes `next(current)` over the current document; 404 when there is none. `next` may
   * throw (a 400 for a merge that breaks a rule) and may return null to write nothing.
   */
  async update(
    phone: E164,
    next: (current: PhoneConfig) => PhoneSettings | null,
    change: ChangeInfo,
    pre: Preconditions = {},
    /** under an Idempotency-Key: whether a document already holds this change */
    holdsChange: (current: PhoneConfig | null) => boolean = () => false,
  ): Promise<{ config: PhoneConfig; written: boolean }> {
    const conditioned =
      pre.ifMatch !== undefined || pre.version !== undefined || pre.idempotency !== undefined;
    for (let attempt = 1; ; attempt++) {
      const current = await this.store.get(phone);
      if (
        pre.idempotency &&
        (await decideWrite(pre.idempotency, phone, current, holdsChange)) === "applied"
      ) {
        if (!current) throw notFound(phone);
        await this.resolver.publish(phone, current);
        return { config: current, written: false };
      }
      if (!current) throw notFound(phone);
      checkIfMatch(phone, current, pre.ifMatch);
      if (pre.version !== undefined && pre.version !== current.version) {
        throw new AppError(
          "CONFLICT",
          `${phone} is at version ${current.version}, not ${pre.version}: read it again and retry`,
          { facts: { current_version: current.version } },
        );
      }
      const settings = next(current);
      if (settings === null) return { config: current, written: false };
      try {
        const { config } = await this.store.put(phone, settings, {
          now: new Date(),
          change,
          ...(pre.idempotency && { writeId: pre.idempotency.id }),
          // Version 0 is a document from before versions existed: nothing to compare against.
          ...(current.version > 0 && { expectedVersion: current.version }),
        });
        await this.resolver.publish(phone, config);
        return { config, written: true };
      } catch (err) {
        if (!(err instanceof StoreError) || err.kind !== "conflict") throw err;
        if (pre.ifMatch) {
          const now = await this.store.get(phone);
          throw now ? preconditionFailed(phone, now.version) : notFound(phone);
        }
        if (conditioned || attempt >= ATTEMPTS) throw err;
      }
    }
  }

  /** PUT: the fields given, merged over the current settings and validated as a whole. */
  async merge(phone: E164, changes: Partial<PhoneSettings>, change: ChangeInfo, pre: Preconditions = {}) {
    const { config } = await this.update(
      phone,
      (current) => {
        const candidate = { ...settingsOf(current), ...changes };
        const merged = SettingsSchema.safeParse(candidate);
        if (!merged.success) throw validationError(merged.error, "configuration after update", candidate);
        return merged.data;
      },
      change,
      pre,
      (current) => holds(current, changes),
    );
    return config;
  }

  /** Soft delete; with If-Match, only from that version; under an Idempotency-Key, at most once. */
  async deactivate(phone: E164, change: ChangeInfo, pre: Preconditions = {}): Promise<PhoneConfig> {
    if (pre.ifMatch || pre.idempotency) {
      const { config } = await this.update(
        phone,
        (c) => ({ ...settingsOf(c), is_active: false }),
        change,
        pre,
        (current) => current?.is_active === false,
      );
      return config;
    }
    const config = await this.store.deactivate(phone, new Date(), change);
    if (!config) throw notFound(phone);
    await this.resolver.publish(phone, config);
    return config;
  }

  /** Hard delete of the document and its history. */
  async remove(phone: E164, pre: Preconditions = {}): Promise<void> {
    if (pre.ifMatch || pre.idempotency) {
      const current = await this.store.get(phone);
      if (
        pre.idempotency &&
        (await decideWrite(pre.idempotency, phone, current, (c) => c === null)) === "applied"
      ) {
        await this.resolver.publish(phone, null);
        return;
      }
      if (!current) throw notFound(phone);
      checkIfMatch(phone, current, pre.ifMatch);
    }
    if (!(await this.store.remove(phone))) throw notFound(phone);
    await this.resolver.publish(phone, null);
  }

  /**
   * A new version whose settings are version `version`'s; nothing is written when they are
   * already current. 404 for a version the history does not hold.
   */
  async rollback(phone: E164, version: number, change: ChangeInfo, pre: Preconditions = {}) {
    const target = await this.revision(phone, version);
    const settings = SettingsSchema.safeParse(settingsOf(target.config));
    if (!settings.success) {
      throw new AppError(
        "CONFLICT",
        `Version ${version} of ${phone} no longer passes today's rules, so it cannot be restored as is: ${validationError(settings.error, "settings").message}`,
      );
    }
    return this.update(
      phone,
      (current) => (sameSettings(current, settings.data) ? null : settings.data),
      { reason: `rollback to version ${version}`, ...change },
      pre,
      (current) => current !== null && sameSettings(current, settings.data),
    );
  }

  /** An import's write: created, updated or, when every setting is already so, unchanged. */
  async apply(phone: E164, settings: PhoneSettings, change: ChangeInfo): Promise<ApplyOutcome> {
    const current = await this.store.get(phone);
    if (!current) return (await this.save(phone, settings, change)).created ? "created" : "updated";
    const { written } = await this.update(
      phone,
      (c) => (sameSettings(c, settings) ? null : settings),
      change,
    );
    return written ? "updated" : "unchanged";
  }

  revisions(phone: E164, query: RevisionQuery): Promise<RevisionPage> {
    return this.store.revisions(phone, query);
  }

  /** One revision, or a 404 that says whether the number or the version is missing. */
  async revision(phone: E164, version: number): Promise<Revision> {
    const revision = await this.store.revision(phone, version);
    if (revision) return revision;
    if (!(await this.store.get(phone))) throw notFound(phone);
    throw new AppError(
      "NOT_FOUND",
      `${phone} has no version ${version} in its history (see GET /admin/phone-config/${phone}/versions)`,
    );
  }
}
