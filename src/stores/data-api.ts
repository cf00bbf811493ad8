import { EJSON } from "bson";
import { z } from "zod";
import type { E164 } from "../config/phone-number.ts";
import type { PhoneConfig, PhoneSettings } from "../config/schema.ts";
import type { Settings } from "../env.ts";
import { configFromDocument } from "./document.ts";
import { type ConfigStore, type PutOptions, StoreError } from "./store.ts";
import { versionedWrite } from "./versioned-write.ts";

/**
 * Phone configs in MongoDB reached over HTTPS with the Atlas Data API v1 wire format (Atlas
 * itself, or any gateway that speaks it), so the Worker needs no driver or TCP socket.
 *
 * Documents are flat: `phone_number` (E.164), every setting under its PhoneConfig name,
 * `created_at`/`updated_at` as BSON dates and `version` as a number. Request bodies are sent
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
  /** per request, including reading the response body */
  timeoutMs: number;
}

type Action = "findOne" | "find" | "updateOne" | "deleteOne";
type Doc = Record<string, unknown>;

const DocSchema = z.record(z.string(), z.unknown());
const RESPONSES = {
  findOne: z.object({ document: DocSchema.nullable() }),
  find: z.object({ documents: z.array(DocSchema) }),
  updateOne: z.object({
    matchedCount: z.number(),
    modifiedCount: z.number(),
    upsertedId: z.unknown().optional(),
  }),
  deleteOne: z.object({ deletedCount: z.number() }),
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
  };
}

export class DataApiStore implements ConfigStore {
  readonly backend = "data-api" as const;
  private readonly base: string;
  private readonly collection: string;

  private readonly options: DataApiStoreOptions;

  constructor(options: DataApiStoreOptions) {
    this.options = options;
    this.base = options.url.replace(/\/+$/, "");
    this.collection = options.collection ?? "phone_configs";
  }

  async get(phone: E164): Promise<PhoneConfig | null> {
    const { document } = await this.call("findOne", { filter: { phone_number: phone } });
    return document ? configFromDocument(document) : null;
  }

  async list(filter: { includeInactive: boolean }): Promise<PhoneConfig[]> {
    const { documents } = await this.call("find", {
      filter: filter.includeInactive ? {} : { is_active: true },
      sort: { phone_number: 1 },
    });
    return documents.map(configFromDocument);
  }

  /** One atomic updateOne (see versionedWrite), then a findOne for the document as written. */
  async put(
    phone: E164,
    settings: PhoneSettings,
    options: PutOptions,
  ): Promise<{ config: PhoneConfig; created: boolean }> {
    const { now, expectedVersion } = options;
    const write = versionedWrite(phone, settings, now, expectedVersion);

    let result: z.output<typeof RESPONSES.updateOne>;
    try {
      result = await this.call("updateOne", { ...write });
    } catch (err) {
      if (err instanceof StoreError && err.kind === "conflict") {
        throw new StoreError("conflict", `${phone} was created by a concurrent write`, { cause: err });
      }
      throw err;
    }
    const created = result.upsertedId !== undefined && result.upsertedId !== null;
    if (expectedVersion === 0 && !created) {
      throw new StoreError("conflict", `${phone} already exists (expected it not to exist)`);
    }
    if (expectedVersion !== undefined && expectedVersion > 0 && result.matchedCount === 0) {
      throw new StoreError(
        "conflict",
        `${phone} changed while it was being updated (expected version ${expectedVersion}; it has a different version or no longer exists)`,
      );
    }
    const config = await this.get(phone);
    if (!config) throw new StoreError("conflict", `${phone} was removed right after it was written`);
    return { config, created };
  }

  async deactivate(phone: E164, now: Date): Promise<PhoneConfig | null> {
    const { matchedCount } = await this.call("updateOne", {
      filter: { phone_number: phone },
      update: { $set: { is_active: false, updated_at: now }, $inc: { version: 1 } },
    });
    if (matchedCount === 0) return null;
    return this.get(phone);
  }

  async remove(phone: E164): Promise<boolean> {
    const { deletedCount } = await this.call("deleteOne", { filter: { phone_number: phone } });
    return deletedCount > 0;
  }

  async ping(): Promise<void> {
    await this.call("findOne", { filter: {}, projection: { _id: 1 } });
  }

  async setup(): Promise<string[]> {
    await this.ping();
    const where = `${this.options.database}.${this.collection}`;
    return [
      `data-api store: reached ${where} through the Data API`,
      `data-api store: the Data API cannot create indexes; create them on ${where} in Atlas (or the database behind your gateway): { phone_number: 1 } with unique: true (keeps one document per number and turns racing creates into conflicts), and { is_active: 1 } (for listing active numbers)`,
    ];
  }

  /** POST one action; every failure becomes a StoreError whose message never holds the api key. */
  private async call<A extends Action>(action: A, args: Doc): Promise<z.output<(typeof RESPONSES)[A]>> {
    const what = `data-api ${action} on ${this.options.database}.${this.collection}`;
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
            collection: this.collection,
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
