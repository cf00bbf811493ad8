import { createServer, type Socket } from "node:net";
import { type Document, deserialize, Long, ObjectId, serialize } from "bson";
import { MongoQueryError, matchesOr, matchOperator, runPipeline } from "./mongo-query.ts";

/**
 * A MongoDB server small enough to read: a TCP server speaking the wire protocol the official
 * driver speaks, answering exactly the commands our stores send (src/stores/mongo-collection.ts)
 * and failing loudly (CommandNotFound) on anything else, so a new command cannot slip past the
 * tests unmodelled. It presents itself as a standalone MongoDB 7.0 server.
 *
 * Framing: the driver's first `isMaster` on a connection is a legacy OP_QUERY (it cannot know the
 * server speaks OP_MSG before the handshake), answered with OP_REPLY; everything after is OP_MSG.
 *
 * Authentication is always refused: the fake knows no users, so a connection string with
 * credentials fails its SCRAM `saslStart` with code 18 AuthenticationFailed, as a wrong
 * password does on Atlas. Data lives in memory per database and collection, so tests isolate
 * themselves by database name.
 */

export interface MongoWireFake {
  /** mongodb://127.0.0.1:PORT/ */
  url: string;
  close(): Promise<void>;
}

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
const MSG_CHECKSUM_PRESENT = 1;
const MSG_MORE_TO_COME = 2;

/** 7.0; the driver (7.x) requires at least 9 (MongoDB 4.4). */
const MAX_WIRE_VERSION = 21;

interface IndexSpec {
  v: number;
  key: Record<string, number>;
  name: string;
  unique?: boolean;
}

interface Collection {
  docs: Document[];
  indexes: IndexSpec[];
}

/** A command's failure, answered as `{ ok: 0, errmsg, code, codeName, ...extra }`. */
class CommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Document;

  constructor(code: number, codeName: string, message: string, extra: Document = {}) {
    super(message);
    this.code = code;
    this.codeName = codeName;
    this.extra = extra;
  }
}

export async function startMongoWireFake(): Promise<MongoWireFake> {
  const collections = new Map<string, Collection>();
  const sockets = new Set<Socket>();
  let nextConnectionId = 1;
  let nextRequestId = 1;

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A client that vanishes mid-write is normal (tests close clients abruptly).
    socket.on("error", () => socket.destroy());
    const connectionId = nextConnectionId++;
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        const reply = respond(message, connectionId);
        if (reply) socket.write(reply);
      }
    });
  });

  function respond(message: Buffer, connectionId: number): Buffer | null {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      // flags(4), fullCollectionName (cstring), numberToSkip(4), numberToReturn(4), query
      const nameEnd = message.indexOf(0, 20);
      const query = deserialize(message.subarray(nameEnd + 9), { allowObjectSmallerThanBufferSize: true });
      const ns = message.toString("utf8", 20, nameEnd);
      const db = ns.slice(0, ns.indexOf("."));
      return opReply(requestId, runCommand({ ...query, $db: db }, connectionId));
    }
    if (opCode === OP_MSG) {
      const flags = message.readUInt32LE(16);
      const end = flags & MSG_CHECKSUM_PRESENT ? message.length - 4 : message.length;
      const command = readSections(message.subarray(20, end));
      const reply = runCommand(command, connectionId);
      return flags & MSG_MORE_TO_COME ? null : opMsg(requestId, reply);
    }
    return opMsg(requestId, failure(new CommandError(2, "BadValue", `unsupported opcode ${opCode}`)));
  }

  function header(length: number, responseTo: number, opCode: number): Buffer {
    const h = Buffer.alloc(16);
    h.writeInt32LE(length, 0);
    h.writeInt32LE(nextRequestId++, 4);
    h.writeInt32LE(responseTo, 8);
    h.writeInt32LE(opCode, 12);
    return h;
  }

  function opReply(responseTo: number, doc: Document): Buffer {
    const body = serialize(doc);
    // responseFlags(4), cursorID(8), startingFrom(4), numberReturned(4)
    const fields = Buffer.alloc(20);
    fields.writeInt32LE(1, 16);
    return Buffer.concat([header(16 + 20 + body.length, responseTo, OP_REPLY), fields, body]);
  }

  function opMsg(responseTo: number, doc: Document): Buffer {
    const body = serialize(doc);
    const fields = Buffer.alloc(5); // flagBits(4) = 0, section kind 0
    return Buffer.concat([header(16 + 5 + body.length, responseTo, OP_MSG), fields, body]);
  }

  function runCommand(command: Document, connectionId: number): Document {
    try {
      return { ...execute(command, connectionId), ok: 1 };
    } catch (err) {
      if (err instanceof CommandError) return failure(err);
      if (err instanceof MongoQueryError)
        return failure(new CommandError(err.code, err.codeName, err.message));
      // A bug in the fake: answer it as a server error, so the test that hit it says why.
      return failure(new CommandError(1, "InternalError", `mongo wire fake crashed: ${String(err)}`));
    }
  }

  function execute(command: Document, connectionId: number): Document {
    const name = Object.keys(command)[0] ?? "";
    const db = String(command.$db);
    switch (name) {
      case "hello":
      case "isMaster":
      case "ismaster":
        return hello(command, connectionId);
      case "ping":
      case "endSessions":
        return {};
      case "saslStart":
        throw new CommandError(18, "AuthenticationFailed", "Authentication failed.");
      case "find":
        return find(db, command);
      case "aggregate":
        return aggregate(db, command);
      case "findAndModify":
        return findAndModify(db, command);
      case "insert":
        return insert(db, command);
      case "update":
        return update(db, command);
      case "delete":
        return remove(db, command);
      case "createIndexes":
        return createIndexes(db, command);
      case "listIndexes":
        return listIndexes(db, command);
      case "dropDatabase":
        // Sent by tests that clean up after themselves on a live server.
        for (const ns of collections.keys()) if (ns.startsWith(`${db}.`)) collections.delete(ns);
        return {};
      default:
        throw new CommandError(59, "CommandNotFound", `no such command: '${name}'`);
    }
  }

  function hello(command: Document, connectionId: number): Document {
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      // Asked for when the connection string has a user; the SCRAM exchange then fails (above).
      ...(command.saslSupportedMechs ? { saslSupportedMechs: ["SCRAM-SHA-1", "SCRAM-SHA-256"] } : {}),
    };
  }

  function collection(db: string, name: string, create: boolean): Collection | undefined {
    const ns = `${db}.${name}`;
    let coll = collections.get(ns);
    if (!coll && create) {
      coll = { docs: [], indexes: [{ v: 2, key: { _id: 1 }, name: "_id_" }] };
      collections.set(ns, coll);
    }
    return coll;
  }

  function find(db: string, command: Document): Document {
    const name = String(command.find);
    const filter = (command.filter ?? {}) as Document;
    let docs = (collection(db, name, false)?.docs ?? []).filter((d) => matches(d, filter));
    if (command.sort) docs = sorted(docs, command.sort as Record<string, number>);
    const limit = Math.abs(Number(command.limit ?? 0));
    if (limit > 0) docs = docs.slice(0, limit);
    const projection = command.projection as Document | undefined;
    const firstBatch = projection ? docs.map((d) => project(d, projection)) : docs;
    return { cursor: { firstBatch, id: Long.fromNumber(0), ns: `${db}.${name}` } };
  }

  /** `aggregate` with a cursor (the driver always asks for one); the pipeline is mongo-query.ts's. */
  function aggregate(db: string, command: Document): Document {
    const name = String(command.aggregate);
    if (!command.cursor || typeof command.cursor !== "object") {
      throw new CommandError(
        9,
        "FailedToParse",
        "The 'cursor' option is required, except for aggregate with the explain argument",
      );
    }
    const docs = collection(db, name, false)?.docs ?? [];
    const firstBatch = runPipeline(docs, command.pipeline, matches);
    return { cursor: { firstBatch, id: Long.fromNumber(0), ns: `${db}.${name}` } };
  }

  /**
   * Documents are inserted one by one; a unique index's refusal is a write error (not a command
   * error), reported as the server does: `{ n, writeErrors: [{ index, code: 11000, errmsg }] }`.
   */
  function insert(db: string, command: Document): Document {
    const name = String(command.insert);
    const coll = collection(db, name, true) as Collection;
    let n = 0;
    const writeErrors: Document[] = [];
    for (const [index, doc] of (command.documents as Document[]).entries()) {
      const inserted = { _id: new ObjectId(), ...doc };
      try {
        checkUnique(db, name, coll, inserted, undefined);
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        writeErrors.push(writeError(index, err));
        if (command.ordered !== false) break;
        continue;
      }
      coll.docs.push(inserted);
      n++;
    }
    return { n, ...(writeErrors.length > 0 && { writeErrors }) };
  }

  /** `update` statements: operator updates, replacements (no `$` keys) and upserts. */
  function update(db: string, command: Document): Document {
    const name = String(command.update);
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (const [index, statement] of (command.updates as Document[]).entries()) {
      const query = (statement.q ?? {}) as Document;
      const change = (statement.u ?? {}) as Document;
      const coll = collection(db, name, Boolean(statement.upsert));
      const existing = coll?.docs.find((d) => matches(d, query));
      try {
        if (coll && existing) {
          const next = isReplacement(change)
            ? { _id: existing._id, ...change }
            : applyUpdate(existing, change, false);
          checkUnique(db, name, coll, next, existing);
          coll.docs[coll.docs.indexOf(existing)] = next;
          n++;
          nModified++;
        } else if (coll && statement.upsert) {
          const seed = { _id: new ObjectId(), ...equalityFields(query) };
          const inserted = isReplacement(change) ? { ...seed, ...change } : applyUpdate(seed, change, true);
          checkUnique(db, name, coll, inserted, undefined);
          coll.docs.push(inserted);
          upserted.push({ index, _id: inserted._id });
          n++;
        }
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        writeErrors.push(writeError(index, err));
        if (command.ordered !== false) break;
      }
    }
    return {
      n,
      nModified,
      ...(upserted.length > 0 && { upserted }),
      ...(writeErrors.length > 0 && { writeErrors }),
    };
  }

  function findAndModify(db: string, command: Document): Document {
    const name = String(command.findAndModify);
    const query = (command.query ?? {}) as Document;
    const update = (command.update ?? {}) as Document;
    const coll = collection(db, name, Boolean(command.upsert));
    if (!coll) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null };
    const existing = coll.docs.find((d) => matches(d, query));
    if (existing) {
      const updated = applyUpdate(existing, update, false);
      checkUnique(db, name, coll, updated, existing);
      coll.docs[coll.docs.indexOf(existing)] = updated;
      return {
        lastErrorObject: { n: 1, updatedExisting: true },
        value: command.new ? updated : existing,
      };
    }
    if (!command.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null };
    const inserted = applyUpdate({ _id: new ObjectId(), ...equalityFields(query) }, update, true);
    checkUnique(db, name, coll, inserted, undefined);
    coll.docs.push(inserted);
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: inserted._id },
      value: command.new ? inserted : null,
    };
  }

  function remove(db: string, command: Document): Document {
    const coll = collection(db, String(command.delete), false);
    let n = 0;
    for (const { q, limit } of command.deletes as { q: Document; limit: number }[]) {
      if (!coll) continue;
      const victims = coll.docs.filter((d) => matches(d, q));
      for (const victim of limit === 1 ? victims.slice(0, 1) : victims) {
        coll.docs.splice(coll.docs.indexOf(victim), 1);
        n++;
      }
    }
    return { n };
  }

  function createIndexes(db: string, command: Document): Document {
    const name = String(command.createIndexes);
    const existed = collections.has(`${db}.${name}`);
    const coll = collection(db, name, true) as Collection;
    const before = coll.indexes.length;
    for (const wanted of command.indexes as IndexSpec[]) {
      const same = coll.indexes.find((i) => i.name === wanted.name);
      if (same) {
        if (Boolean(same.unique) !== Boolean(wanted.unique)) {
          throw new CommandError(
            86,
            "IndexKeySpecsConflict",
            `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(wanted)}, existing index: ${JSON.stringify(same)}`,
          );
        }
        continue;
      }
      const spec: IndexSpec = {
        v: 2,
        key: wanted.key,
        name: wanted.name,
        ...(wanted.unique ? { unique: true } : {}),
      };
      if (spec.unique) {
        for (const doc of coll.docs) checkIndex(db, name, coll.docs, spec, doc, doc);
      }
      coll.indexes.push(spec);
    }
    return {
      numIndexesBefore: before,
      numIndexesAfter: coll.indexes.length,
      createdCollectionAutomatically: !existed,
      ...(before === coll.indexes.length ? { note: "all indexes already exist" } : {}),
    };
  }

  function listIndexes(db: string, command: Document): Document {
    const name = String(command.listIndexes);
    const coll = collection(db, name, false);
    if (!coll) throw new CommandError(26, "NamespaceNotFound", `ns does not exist: ${db}.${name}`);
    return { cursor: { firstBatch: coll.indexes, id: Long.fromNumber(0), ns: `${db}.${name}` } };
  }

  function checkUnique(
    db: string,
    name: string,
    coll: Collection,
    doc: Document,
    replacing?: Document,
  ): void {
    for (const index of coll.indexes) {
      if (index.name === "_id_" || index.unique) checkIndex(db, name, coll.docs, index, doc, replacing);
    }
  }

  /** The server's own duplicate-key error, message included, so error mapping is tested for real. */
  function checkIndex(
    db: string,
    name: string,
    docs: Document[],
    index: IndexSpec,
    doc: Document,
    replacing?: Document,
  ): void {
    const fields = Object.keys(index.key);
    const clash = docs.find((other) => other !== replacing && fields.every((f) => same(other[f], doc[f])));
    if (!clash) return;
    const keyValue = Object.fromEntries(fields.map((f) => [f, doc[f]]));
    const shown = fields.map((f) => `${f}: ${JSON.stringify(doc[f])}`).join(", ");
    throw new CommandError(
      11000,
      "DuplicateKey",
      `E11000 duplicate key error collection: ${db}.${name} index: ${index.name} dup key: { ${shown} }`,
      { keyPattern: index.key, keyValue },
    );
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("mongo wire fake did not bind");
  return {
    url: `mongodb://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function writeError(index: number, err: CommandError): Document {
  return { index, code: err.code, errmsg: err.message, ...err.extra };
}

function isReplacement(change: Document): boolean {
  return !Object.keys(change).some((k) => k.startsWith("$"));
}

/** Inclusion (`{version: 1}`) or exclusion (`{_id: 0}`) projection; `_id` stays unless excluded. */
function project(doc: Document, projection: Document): Document {
  const included = Object.entries(projection).filter(([k, v]) => k !== "_id" && Boolean(v));
  const out: Document =
    included.length > 0 ? Object.fromEntries(included.map(([k]) => [k, doc[k]])) : { ...doc };
  if (included.length === 0) {
    for (const [k, v] of Object.entries(projection)) if (!v) delete out[k];
  }
  if (included.length > 0 && projection._id !== 0 && projection._id !== false) out._id = doc._id;
  if (projection._id === 0 || projection._id === false) delete out._id;
  return out;
}

function failure(err: CommandError): Document {
  return { ok: 0, errmsg: err.message, code: err.code, codeName: err.codeName, ...err.extra };
}

/** OP_MSG sections: kind 0 is the command; kind 1 is a document sequence for one of its fields. */
function readSections(sections: Buffer): Document {
  let command: Document = {};
  const sequences: Record<string, Document[]> = {};
  let at = 0;
  while (at < sections.length) {
    const kind = sections[at];
    at += 1;
    if (kind === 0) {
      const size = sections.readInt32LE(at);
      command = deserialize(sections.subarray(at, at + size));
      at += size;
    } else {
      const size = sections.readInt32LE(at);
      const end = at + size;
      const idEnd = sections.indexOf(0, at + 4);
      const id = sections.toString("utf8", at + 4, idEnd);
      const docs: Document[] = [];
      for (let p = idEnd + 1; p < end; ) {
        const docSize = sections.readInt32LE(p);
        docs.push(deserialize(sections.subarray(p, p + docSize)));
        p += docSize;
      }
      sequences[id] = docs;
      at = end;
    }
  }
  return { ...command, ...sequences };
}

function isOperatorObject(value: unknown): value is Document {
  if (!value || typeof value !== "object" || value instanceof Date || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith("$"));
}

/**
 * Equality on top-level fields, `$exists`, numeric ranges, and `$or`, `$in`, `$regex`
 * (test/fakes/mongo-query.ts): all our stores' filters use.
 */
function matches(doc: Document, filter: Document): boolean {
  return Object.entries(filter).every(([field, condition]) => {
    if (field === "$or") return matchesOr(doc, condition, matches);
    if (!isOperatorObject(condition)) return same(doc[field], condition);
    const value = doc[field];
    return Object.entries(condition).every(([op, arg]) => {
      if (op === "$exists") return field in doc === Boolean(arg);
      const known = matchOperator(op, arg, condition, value, field in doc, same);
      if (known !== undefined) return known;
      if (op === "$eq") return same(value, arg);
      // As on a server: a range never matches a missing field or one of another type.
      if (typeof value !== "number" || typeof arg !== "number") {
        if (["$lt", "$lte", "$gt", "$gte"].includes(op)) return false;
      } else if (op === "$lt") return value < arg;
      else if (op === "$lte") return value <= arg;
      else if (op === "$gt") return value > arg;
      else if (op === "$gte") return value >= arg;
      throw new CommandError(2, "BadValue", `unknown operator: ${op}`);
    });
  });
}

/** Equality fields of an upsert's query seed the inserted document, as on a real server. */
function equalityFields(query: Document): Document {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => !isOperatorObject(v)));
}

function applyUpdate(doc: Document, update: Document, inserting: boolean): Document {
  const next: Document = { ...doc };
  for (const [op, fields] of Object.entries(update)) {
    for (const [field, value] of Object.entries(fields as Document)) {
      if (op === "$set" || (op === "$setOnInsert" && inserting)) next[field] = value;
      else if (op === "$inc") next[field] = Number(next[field] ?? 0) + Number(value);
      else if (op !== "$setOnInsert") throw new CommandError(9, "FailedToParse", `Unknown modifier: ${op}`);
    }
  }
  return next;
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  return Buffer.from(serialize({ v: a })).equals(serialize({ v: b }));
}

function sorted(docs: Document[], sort: Record<string, number>): Document[] {
  return [...docs].sort((x, y) => {
    for (const [field, direction] of Object.entries(sort)) {
      const a = x[field];
      const b = y[field];
      if (a < b) return -direction;
      if (a > b) return direction;
    }
    return 0;
  });
}
