import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDataApiFake } from "../fakes/data-api.ts";
import { type MongoWireFake, startMongoWireFake } from "../fakes/mongo-wire.ts";
import type { FakeServer } from "../fakes/server.ts";

/** `npm run setup:db` as a user runs it: `node scripts/setup-db.ts` in a directory of their choosing. */

const SCRIPT = resolve(import.meta.dirname, "../../scripts/setup-db.ts");
const PASSWORD = "s3cr3t-Pa55w0rd";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;

function setupDb(env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [SCRIPT],
      // Only what the test gives: the developer's own settings must not leak in.
      { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const lines = (text: string) => text.trim().split("\n");

let mongo: MongoWireFake;
let dataApi: FakeServer;

beforeAll(async () => {
  [mongo, dataApi] = await Promise.all([startMongoWireFake(), startDataApiFake()]);
});

afterAll(async () => {
  await Promise.all([mongo?.close(), dataApi?.close()]);
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "setup-db-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("setup:db", () => {
  it("creates the mongodb indexes, then finds them present on a second run", {
    timeout: 60_000,
  }, async () => {
    const env = { CONFIG_STORE: "mongodb", MONGODB_URL: mongo.url, MONGODB_DB_NAME: "voice_setup" };

    const first = await setupDb(env);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(lines(first.stdout)).toEqual([
      "mongodb store: created index phone_number_1 (unique) on voice_setup.phone_configs",
      "mongodb store: created index is_active_1 on voice_setup.phone_configs",
      "mongodb store: created index phone_number_1_version_1 (unique) on voice_setup.phone_config_versions",
      "mongodb store: created index name_1 (unique) on voice_setup.config_templates",
    ]);

    const client = new MongoClient(mongo.url);
    try {
      const indexes = await client.db("voice_setup").collection("phone_configs").listIndexes().toArray();
      expect(indexes.map(({ name, unique }) => ({ name, unique }))).toEqual([
        { name: "_id_", unique: undefined },
        { name: "phone_number_1", unique: true },
        { name: "is_active_1", unique: undefined },
      ]);
      const history = await client
        .db("voice_setup")
        .collection("phone_config_versions")
        .listIndexes()
        .toArray();
      expect(history.map(({ name, key, unique }) => ({ name, key, unique }))).toEqual([
        { name: "_id_", key: { _id: 1 }, unique: undefined },
        { name: "phone_number_1_version_1", key: { phone_number: 1, version: 1 }, unique: true },
      ]);
    } finally {
      await client.close();
    }

    const second = await setupDb(env);
    expect(second).toMatchObject({ code: 0, stderr: "" });
    expect(lines(second.stdout)).toEqual([
      "mongodb store: index phone_number_1 (unique) on voice_setup.phone_configs already present",
      "mongodb store: index is_active_1 on voice_setup.phone_configs already present",
      "mongodb store: index phone_number_1_version_1 (unique) on voice_setup.phone_config_versions already present",
      "mongodb store: index name_1 (unique) on voice_setup.config_templates already present",
    ]);
  });

  it("reads .dev.vars from the current directory, the environment winning", { timeout: 30_000 }, async () => {
    writeFileSync(
      join(dir, ".dev.vars"),
      `CONFIG_STORE=mongodb\nMONGODB_URL=${mongo.url}\nMONGODB_DB_NAME=from_file\n`,
    );
    const run = await setupDb({ MONGODB_DB_NAME: "from_env" });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("on from_env.phone_configs");
    expect(run.stdout).not.toContain("from_file");
  });

  it("fails with a clear message and no connection string when MongoDB refuses the login", {
    timeout: 30_000,
  }, async () => {
    const url = mongo.url.replace("mongodb://", `mongodb://voice:${PASSWORD}@`);
    const run = await setupDb({ CONFIG_STORE: "mongodb", MONGODB_URL: url });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("setup:db failed (auth)");
    expect(run.stderr).toContain("Authentication failed");
    expect(run.stderr).not.toContain(PASSWORD);
    expect(run.stderr).not.toContain(url);
  });

  it("fails listing what is wrong when the settings are invalid", { timeout: 30_000 }, async () => {
    const run = await setupDb({ CONFIG_STORE: "mongodb", MONGODB_URL: "https://cluster0.example.net" });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("MONGODB_URL must start with mongodb:// or mongodb+srv://");
  });

  it("has nothing to do for the embedded store", { timeout: 30_000 }, async () => {
    const run = await setupDb({});
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^embedded store: nothing to do/);
  });

  it("prints the indexes to create by hand for the data-api store", { timeout: 30_000 }, async () => {
    const run = await setupDb({
      CONFIG_STORE: "data-api",
      DATA_API_URL: dataApi.url,
      DATA_API_KEY: "data-api-key",
      MONGODB_DB_NAME: "voice",
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("{ phone_number: 1 } with unique: true");
    expect(run.stdout).toContain("{ is_active: 1 }");
  });
});
