import { type Collection, MongoClient, MongoServerError } from "mongodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type MongoWireFake, startMongoWireFake } from "../fakes/mongo-wire.ts";

/** The official driver against the wire fake: the fake must answer as a real server would. */

let fake: MongoWireFake;
let client: MongoClient;
let collection: Collection;

beforeAll(async () => {
  fake = await startMongoWireFake();
  client = new MongoClient(fake.url, { serverSelectionTimeoutMS: 2000 });
});

afterAll(async () => {
  await client?.close();
  await fake?.close();
});

beforeEach(() => {
  collection = client.db(`t_${crypto.randomUUID().slice(0, 8)}`).collection("phone_configs");
});

const upsert = (phone: string, set: Record<string, unknown>) =>
  collection.findOneAndUpdate(
    { phone_number: phone },
    { $set: set, $setOnInsert: { created_at: new Date("2026-01-01T00:00:00Z") }, $inc: { version: 1 } },
    { upsert: true, returnDocument: "after", includeResultMetadata: true },
  );

describe("mongo wire fake", () => {
  it("answers the driver's handshake and a ping", async () => {
    await expect(client.db("admin").command({ ping: 1 })).resolves.toEqual({ ok: 1 });
  });

  it("inserts with an upsert, then updates the same document", async () => {
    const inserted = await upsert("+14155550100", { display_name: "A", is_active: true });
    expect(inserted.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(inserted.value).toMatchObject({
      phone_number: "+14155550100",
      display_name: "A",
      version: 1,
      created_at: new Date("2026-01-01T00:00:00Z"),
    });

    const updated = await upsert("+14155550100", { display_name: "B" });
    expect(updated.lastErrorObject).toMatchObject({ n: 1, updatedExisting: true });
    expect(updated.value).toMatchObject({ display_name: "B", version: 2, is_active: true });
    expect(updated.value?._id).toEqual(inserted.value?._id);
  });

  it("leaves a document alone when an update's filter does not match and there is no upsert", async () => {
    await upsert("+14155550100", { display_name: "A" });
    const result = await collection.findOneAndUpdate(
      { phone_number: "+14155550100", version: 7 },
      { $set: { display_name: "stale" } },
      { returnDocument: "after" },
    );
    expect(result).toBeNull();
    expect(await collection.findOne({ phone_number: "+14155550100" })).toMatchObject({ display_name: "A" });
  });

  it("finds by equality and $exists, sorted and limited", async () => {
    await upsert("+3", { is_active: true });
    await upsert("+1", { is_active: false });
    await upsert("+2", { is_active: true, note: "x" });

    const active = await collection.find({ is_active: true }).sort({ phone_number: 1 }).toArray();
    expect(active.map((d) => d.phone_number)).toEqual(["+2", "+3"]);
    const noted = await collection.find({ note: { $exists: true } }).toArray();
    expect(noted.map((d) => d.phone_number)).toEqual(["+2"]);
    const last = await collection.find({}).sort({ phone_number: -1 }).limit(1).toArray();
    expect(last.map((d) => d.phone_number)).toEqual(["+3"]);
  });

  it("deletes one document and counts what it deleted", async () => {
    await upsert("+1", {});
    expect(await collection.deleteOne({ phone_number: "+1" })).toMatchObject({ deletedCount: 1 });
    expect(await collection.deleteOne({ phone_number: "+1" })).toMatchObject({ deletedCount: 0 });
    expect(await collection.findOne({ phone_number: "+1" })).toBeNull();
  });

  it("enforces a unique index with the server's duplicate-key error", async () => {
    await collection.createIndex({ phone_number: 1 }, { unique: true });
    await upsert("+14155550100", {});
    const err = await collection
      .findOneAndUpdate(
        { phone_number: "+14155550100", version: { $exists: false } },
        { $set: { display_name: "dup" } },
        { upsert: true },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).message).toBe(
      `E11000 duplicate key error collection: ${collection.namespace} index: phone_number_1 dup key: { phone_number: "+14155550100" }`,
    );
  });

  it("refuses to create a unique index over duplicates", async () => {
    await collection.findOneAndUpdate({ phone_number: "+1", copy: 1 }, { $set: {} }, { upsert: true });
    await collection.findOneAndUpdate({ phone_number: "+1", copy: 2 }, { $set: {} }, { upsert: true });
    const err = await collection.createIndex({ phone_number: 1 }, { unique: true }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(11000);
  });

  it("creates indexes idempotently and lists them; a missing collection has none", async () => {
    const missing = await collection
      .listIndexes()
      .toArray()
      .catch((e: unknown) => e);
    expect((missing as MongoServerError).code).toBe(26);

    await collection.createIndexes([
      { key: { phone_number: 1 }, name: "phone_number_1", unique: true },
      { key: { is_active: 1 }, name: "is_active_1" },
    ]);
    await collection.createIndex({ phone_number: 1 }, { unique: true, name: "phone_number_1" });
    const indexes = await collection.listIndexes().toArray();
    expect(indexes.map(({ name, key, unique }) => ({ name, key, unique }))).toEqual([
      { name: "_id_", key: { _id: 1 }, unique: undefined },
      { name: "phone_number_1", key: { phone_number: 1 }, unique: true },
      { name: "is_active_1", key: { is_active: 1 }, unique: undefined },
    ]);
  });

  it("refuses any credentials with AuthenticationFailed", async () => {
    const withPassword = new MongoClient(fake.url.replace("mongodb://", "mongodb://voice:wrong@"), {
      serverSelectionTimeoutMS: 2000,
    });
    try {
      const err = await withPassword
        .db("admin")
        .command({ ping: 1 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(18);
    } finally {
      await withPassword.close();
    }
  });

  it("refuses a second document under a unique index with the server's 11000 write error", async () => {
    const versions = client.db("t_wire_unique").collection("phone_config_versions");
    await versions.createIndex(
      { phone_number: 1, version: 1 },
      { unique: true, name: "phone_number_1_version_1" },
    );
    await versions.insertOne({ phone_number: "+14155550100", version: 1 });
    await versions.insertOne({ phone_number: "+14155550100", version: 2 });
    const err = await versions
      .insertOne({ phone_number: "+14155550100", version: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).message).toBe(
      'E11000 duplicate key error collection: t_wire_unique.phone_config_versions index: phone_number_1_version_1 dup key: { phone_number: "+14155550100", version: 1 }',
    );
    expect(await versions.find({}).toArray()).toHaveLength(2);
  });

  it("answers a command it does not model with CommandNotFound", async () => {
    const err = await collection.distinct("display_name").catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(59);
  });
  it("aggregates a $match and a $facet of a count and a sorted page, one document even when nothing matches", async () => {
    await collection.insertMany([
      { phone_number: "+14155550102", display_name: "Bookings", is_active: true },
      { phone_number: "+14155550101", display_name: "bookings desk", is_active: false },
      { phone_number: "+14155550100", display_name: "Main" },
    ]);
    const pipeline = (match: Record<string, unknown>) => [
      { $match: match },
      {
        $facet: {
          total: [{ $count: "n" }],
          page: [{ $sort: { phone_number: 1 } }, { $skip: 1 }, { $limit: 1 }, { $project: { _id: 0 } }],
        },
      },
    ];
    const [found] = await collection
      .aggregate(
        pipeline({
          $or: [{ display_name: { $regex: "BOOK", $options: "i" } }, { phone_number: { $regex: "0100" } }],
        }),
      )
      .toArray();
    expect(found).toEqual({
      total: [{ n: 3 }],
      page: [{ phone_number: "+14155550101", display_name: "bookings desk", is_active: false }],
    });
    // $in with null also matches a document without the field, as on a server.
    const [active] = await collection.aggregate(pipeline({ is_active: { $in: [true, null] } })).toArray();
    expect(active?.total).toEqual([{ n: 2 }]);
    const [none] = await collection.aggregate(pipeline({ display_name: "nobody" })).toArray();
    expect(none).toEqual({ total: [], page: [] });
  });

  it("refuses what a server refuses in a pipeline or filter, with its codes", async () => {
    // The fake checks a filter as it matches documents: there must be one to match.
    await collection.insertOne({ phone_number: "+14155550100", display_name: "Main" });
    const refusal = (pipeline: Record<string, unknown>[]) =>
      collection
        .aggregate(pipeline)
        .toArray()
        .then(
          () => null,
          (err: unknown) => err,
        );
    const cases: [Record<string, unknown>[], number][] = [
      [[{ $limit: 0 }], 15958],
      [[{ $skip: -1 }], 5107200],
      [[{ $sort: {} }], 15976],
      [[{ $facet: { inner: [{ $facet: {} }] } }], 40600],
      [[{ $lookup: { from: "x" } }], 40324],
      [[{ $match: { display_name: { $options: "i" } } }], 2],
      [[{ $match: { display_name: { $regex: "(" } } }], 51091],
      [[{ $match: { $or: [] } }], 2],
      [[{ $count: "a.b" }], 40160],
    ];
    for (const [pipeline, code] of cases) {
      const err = await refusal(pipeline);
      expect(err, JSON.stringify(pipeline)).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code, JSON.stringify(pipeline)).toBe(code);
    }
    expect(await refusal([{ $match: { phone_number: { $in: "+14155550100" } } }])).toMatchObject({ code: 2 });
  });
});
