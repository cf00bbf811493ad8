import type { ServerResponse } from "node:http";
import { BSONRegExp, EJSON, ObjectId } from "bson";
import { MongoQueryError, matchesOr, matchOperator, matchRegex, runPipeline } from "./mongo-query.ts";
import {
  type FakeServer,
  json,
  type NamespaceState,
  type RecordedRequest,
  startFakeServer,
} from "./server.ts";

/**
 * A fake MongoDB Atlas Data API v1: POST /action/{findOne,find,aggregate,insertOne,updateOne,
 * replaceOne,deleteOne,deleteMany}
 * over in-memory collections kept per namespace (keyed dataSource/database/collection). It
 * behaves like Atlas with the unique indexes of `npm run setup:db` (phone_number; (phone_number,
 * version) in history collections, name in template collections): request bodies are read as EJSON
 * only when sent as application/ejson (as the Data API does), `Accept: application/ejson`
 * gets canonical EJSON back (`{"$numberInt": "1"}`, `{"$date": {"$numberLong": ...}}`),
 * and errors have the Data API's `{"error", "error_code"}` shape.
 *
 * A frozen store, for tests of writes whose outcome is unknown (test/fakes/data-api-client.ts):
 *   POST /__data_api/pause   {actions?}  -> requests for these actions (default: the writes) are
 *                                           held, unanswered and not applied, until...
 *   POST /__data_api/resume  {discard?}  -> ...each held request is applied and answered, in
 *                                           order, as a store waking up does even if its client
 *                                           gave up waiting; `discard: true` drops them instead
 */

const WRITE_ACTIONS = ["insertOne", "updateOne", "replaceOne", "deleteOne", "deleteMany"];

interface Pause {
  actions: Set<string>;
  held: ((apply: boolean) => void)[];
}

/** Holds the request while the namespace's store is paused; false when it is to be dropped. */
async function unpaused(state: NamespaceState, action: string): Promise<boolean> {
  const pause = state.get("data_api:pause") as Pause | undefined;
  if (!pause?.actions.has(action)) return true;
  return new Promise<boolean>((resolve) => pause.held.push(resolve));
}

function control(req: RecordedRequest, res: ServerResponse, state: NamespaceState): boolean {
  const body = (req.body ? JSON.parse(req.body) : {}) as { actions?: string[]; discard?: boolean };
  if (req.path === "/__data_api/pause") {
    state.set("data_api:pause", {
      actions: new Set(body.actions ?? WRITE_ACTIONS),
      held: [],
    } satisfies Pause);
  } else if (req.path === "/__data_api/resume") {
    const pause = state.get("data_api:pause") as Pause | undefined;
    state.delete("data_api:pause");
    for (const release of pause?.held ?? []) release(body.discard !== true);
    json(res, 200, { ok: true, released: pause?.held.length ?? 0 });
    return true;
  } else {
    return false;
  }
  json(res, 200, { ok: true });
  return true;
}

type Doc = Record<string, unknown>;

class DataApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function collectionOf(state: NamespaceState, body: Doc): Doc[] {
  for (const key of ["dataSource", "database", "collection"]) {
    if (typeof body[key] !== "string" || body[key] === "") {
      throw new DataApiError(400, "MissingParameter", `must specify a '${key}'`);
    }
  }
  const key = `data_api:${body.dataSource}/${body.database}/${body.collection}`;
  let docs = state.get(key) as Doc[] | undefined;
  if (!docs) {
    docs = [];
    state.set(key, docs);
  }
  return docs;
}

function same(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof ObjectId && b instanceof ObjectId) return a.equals(b);
  return a === b;
}

const RANGE: Record<string, (a: number, b: number) => boolean> = {
  $lt: (a, b) => a < b,
  $lte: (a, b) => a <= b,
  $gt: (a, b) => a > b,
  $gte: (a, b) => a >= b,
};

/**
 * Equality on top-level fields, `{field: {$exists: bool}}`, numeric ranges ($lt, $lte, $gt,
 * $gte), and `$or`, `$in`, `$regex` (test/fakes/mongo-query.ts); any other operator is refused.
 */
function matches(doc: Doc, filter: Doc): boolean {
  return Object.entries(filter).every(([field, want]) => {
    if (field === "$or") return matchesOr(doc, want, matches);
    // An EJSON body's {"$regex", "$options"} arrives as a regular expression, matched as one.
    if (want instanceof BSONRegExp) return matchRegex(doc[field], want.pattern, want.options);
    if (want && typeof want === "object" && !(want instanceof Date) && !(want instanceof ObjectId)) {
      const ops = Object.entries(want as Doc);
      return ops.every(([op, arg]) => {
        if (op === "$exists") return (doc[field] !== undefined) === Boolean(arg);
        const known = matchOperator(op, arg, want as Doc, doc[field], doc[field] !== undefined, same);
        if (known !== undefined) return known;
        const range = RANGE[op];
        if (!range) throw new DataApiError(400, "InvalidParameter", `unsupported query operator ${op}`);
        const value = doc[field];
        // As on a server: a range never matches a missing field or one of another type.
        return typeof value === "number" && typeof arg === "number" && range(value, arg);
      });
    }
    return same(doc[field], want);
  });
}

/** MongoDB refuses to store field names starting with `$`, which is what an EJSON value sent as plain JSON becomes. */
function assertStorable(value: unknown, path: string): void {
  if (!value || typeof value !== "object" || value instanceof Date || value instanceof ObjectId) return;
  for (const [key, inner] of Object.entries(value)) {
    if (key.startsWith("$")) {
      throw new DataApiError(
        400,
        "InvalidParameter",
        `(Location16840) The dollar ($) prefixed field '${key}' in '${path}.${key}' is not valid for storage.`,
      );
    }
    assertStorable(inner, `${path}.${key}`);
  }
}

/**
 * The unique indexes `npm run setup:db` asks for: history collections (named `*_versions`)
 * on (phone_number, version), every other collection on phone_number.
 */
function uniqueKey(body: Doc): string[] {
  const collection = String(body.collection);
  if (collection.endsWith("_versions")) return ["phone_number", "version"];
  if (collection.endsWith("_templates")) return ["name"];
  return ["phone_number"];
}

function assertUnique(docs: Doc[], doc: Doc, body: Doc): void {
  const fields = uniqueKey(body);
  const clash = docs.find(
    (d) => !same(d._id, doc._id) && fields.every((f) => d[f] !== undefined && same(d[f], doc[f])),
  );
  if (clash) {
    const shown = fields.map((f) => `${f}: ${JSON.stringify(doc[f])}`).join(", ");
    throw new DataApiError(
      409,
      "DuplicateKey",
      `E11000 duplicate key error collection: ${body.database}.${body.collection} index: ${fields.map((f) => `${f}_1`).join("_")} dup key: { ${shown} }`,
    );
  }
}

function applyUpdate(doc: Doc, update: Doc, inserting: boolean): void {
  for (const [op, fields] of Object.entries(update)) {
    if (op !== "$set" && op !== "$setOnInsert" && op !== "$inc") {
      throw new DataApiError(400, "InvalidParameter", `unsupported update operator ${op}`);
    }
    for (const [field, value] of Object.entries(fields as Doc)) {
      assertStorable(value, field);
      if (op === "$set" || (op === "$setOnInsert" && inserting)) doc[field] = value;
      if (op === "$inc") {
        if (typeof value !== "number")
          throw new DataApiError(400, "InvalidParameter", `$inc ${field}: not a number`);
        const current = doc[field] ?? 0;
        if (typeof current !== "number") {
          throw new DataApiError(400, "InvalidParameter", `cannot $inc non-numeric field ${field}`);
        }
        doc[field] = current + value;
      }
    }
  }
}

function project(doc: Doc, projection: unknown): Doc {
  if (!projection || typeof projection !== "object") return doc;
  const keep = Object.entries(projection as Doc).filter(([, v]) => Boolean(v));
  if (keep.length === 0) return doc;
  return Object.fromEntries([["_id", doc._id], ...keep.map(([k]) => [k, doc[k]])]);
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return (a as string | number) < (b as string | number) ? -1 : 1;
}

function sorted(docs: Doc[], sort: unknown): Doc[] {
  const keys = Object.entries((sort ?? {}) as Doc);
  return [...docs].sort((x, y) => {
    for (const [key, dir] of keys) {
      const c = compare(x[key], y[key]) * (dir === -1 ? -1 : 1);
      if (c !== 0) return c;
    }
    return 0;
  });
}

function run(action: string, body: Doc, docs: Doc[]): unknown {
  const filter = (body.filter ?? {}) as Doc;
  switch (action) {
    case "findOne": {
      const doc = docs.find((d) => matches(d, filter));
      return { document: doc ? project(doc, body.projection) : null };
    }
    case "find": {
      let found = sorted(
        docs.filter((d) => matches(d, filter)),
        body.sort,
      );
      if (typeof body.skip === "number") found = found.slice(body.skip);
      if (typeof body.limit === "number") found = found.slice(0, body.limit);
      return { documents: found.map((d) => project(d, body.projection)) };
    }
    case "aggregate":
      return { documents: runPipeline(docs, body.pipeline, matches) };
    case "insertOne": {
      const doc = { _id: new ObjectId(), ...(body.document as Doc) };
      for (const [field, value] of Object.entries(doc)) assertStorable(value, field);
      assertUnique(docs, doc, body);
      docs.push(doc);
      return { insertedId: doc._id };
    }
    case "updateOne": {
      const update = (body.update ?? {}) as Doc;
      const existing = docs.find((d) => matches(d, filter));
      if (existing) {
        const next = { ...existing };
        applyUpdate(next, update, false);
        assertUnique(docs, next, body);
        Object.assign(existing, next);
        return { matchedCount: 1, modifiedCount: 1 };
      }
      if (body.upsert !== true) return { matchedCount: 0, modifiedCount: 0 };
      // An upsert starts from the filter's equality fields, as MongoDB does.
      const equalities = Object.entries(filter).filter(
        ([, v]) => !(v && typeof v === "object" && !(v instanceof Date) && !(v instanceof ObjectId)),
      );
      const doc: Doc = { _id: new ObjectId(), ...Object.fromEntries(equalities) };
      applyUpdate(doc, update, true);
      assertUnique(docs, doc, body);
      docs.push(doc);
      return { matchedCount: 0, modifiedCount: 0, upsertedId: doc._id };
    }
    case "replaceOne": {
      const replacement = (body.replacement ?? {}) as Doc;
      for (const key of Object.keys(replacement)) {
        if (key.startsWith("$")) {
          throw new DataApiError(
            400,
            "InvalidParameter",
            "replacement document must not contain update operators",
          );
        }
      }
      for (const [field, value] of Object.entries(replacement)) assertStorable(value, field);
      const existing = docs.find((d) => matches(d, filter));
      if (!existing && body.upsert === true) {
        const doc = { _id: new ObjectId(), ...replacement };
        assertUnique(docs, doc, body);
        docs.push(doc);
        return { matchedCount: 0, modifiedCount: 0, upsertedId: doc._id };
      }
      if (!existing) return { matchedCount: 0, modifiedCount: 0 };
      const next = { _id: existing._id, ...replacement };
      assertUnique(docs, next, body);
      docs[docs.indexOf(existing)] = next;
      return { matchedCount: 1, modifiedCount: 1 };
    }
    case "deleteMany": {
      const keep = docs.filter((d) => !matches(d, filter));
      const deletedCount = docs.length - keep.length;
      docs.splice(0, docs.length, ...keep);
      return { deletedCount };
    }
    case "deleteOne": {
      const index = docs.findIndex((d) => matches(d, filter));
      if (index >= 0) docs.splice(index, 1);
      return { deletedCount: index >= 0 ? 1 : 0 };
    }
    default:
      throw new DataApiError(404, "ActionNotFound", `no such action: ${action}`);
  }
}

function reply(res: ServerResponse, req: RecordedRequest, status: number, body: unknown): void {
  if (/application\/ejson/.test(req.headers.accept ?? "")) {
    res.writeHead(status, { "content-type": "application/ejson" });
    res.end(EJSON.stringify(body, { relaxed: false }));
  } else {
    json(res, status, body);
  }
}

export function startDataApiFake(): Promise<FakeServer> {
  return startFakeServer("data-api", async (req, res, state) => {
    if (req.method === "POST" && control(req, res, state)) return;
    try {
      if (!req.headers.apikey) {
        throw new DataApiError(401, "InvalidSession", "invalid session: no apiKey header was sent");
      }
      const action = /^\/action\/([A-Za-z]+)$/.exec(req.path)?.[1];
      if (req.method !== "POST" || !action)
        throw new DataApiError(404, "NotFound", `no route for ${req.path}`);
      const ejsonBody = /application\/ejson/.test(req.headers["content-type"] ?? "");
      let body: Doc;
      try {
        body = (ejsonBody ? EJSON.parse(req.body, { relaxed: true }) : JSON.parse(req.body)) as Doc;
      } catch (err) {
        throw new DataApiError(400, "InvalidParameter", `request body is not valid JSON: ${String(err)}`);
      }
      if (!(await unpaused(state, action))) {
        throw new DataApiError(
          503,
          "ServiceUnavailable",
          "the request was dropped while the store was paused",
        );
      }
      reply(res, req, 200, run(action, body, collectionOf(state, body)));
    } catch (caught) {
      // The server's refusal of a query, passed on by the Data API as a bad request.
      const err =
        caught instanceof MongoQueryError
          ? new DataApiError(400, "InvalidParameter", `(${caught.codeName}) ${caught.message}`)
          : caught;
      if (!(err instanceof DataApiError)) throw err;
      json(res, err.status, {
        error: err.message,
        error_code: err.code,
        link: "https://data.mongodb-api.com/fake/logs",
      });
    }
  });
}
