import { describe, expect, it } from "vitest";
import type { E164 } from "../../src/config/phone-number.ts";
import { MongoConnection } from "../../src/stores/mongo-connection.ts";
import { startMongoWireFake } from "../fakes/mongo-wire.ts";

/**
 * The warm client's lifecycle, in Node where a test can take a server away (inside workerd the
 * same class runs behind the Durable Object: test/integration/mongodb-store.test.ts).
 */

const A = "+14155550100" as E164;
const RECONNECT = { database: "t_reconnect", historyLimit: 100 };
const SHARED = { database: "t_shared", historyLimit: 100 };

describe("MongoConnection", () => {
  it("drops a client whose server went away and connects afresh on the next request", {
    timeout: 20_000,
  }, async () => {
    const first = await startMongoWireFake();
    const second = await startMongoWireFake();
    let url = first.url;
    const connection = new MongoConnection(() => url);
    try {
      expect(connection.connectionState()).toBe("disconnected");
      expect(await connection.get(RECONNECT, A)).toEqual({ ok: true, value: null });
      expect(connection.connectionState()).toBe("connected");

      await first.close();
      url = second.url;
      // The old client cannot know the server moved: its request fails, and it is dropped...
      expect(await connection.get(RECONNECT, A)).toMatchObject({ ok: false, kind: "unavailable" });
      expect(connection.connectionState()).toMatch(/^error: /);
      // ...so the next request builds a new client from the connection string, and succeeds.
      expect(await connection.get(RECONNECT, A)).toEqual({ ok: true, value: null });
      expect(connection.connectionState()).toBe("connected");
    } finally {
      await second.close();
    }
  });

  it("says it is connecting while the first connection is made, and answers what arrives meanwhile", async () => {
    const fake = await startMongoWireFake();
    const connection = new MongoConnection(() => fake.url);
    try {
      const pending = Promise.all([connection.get(SHARED, A), connection.list(SHARED, true)]);
      expect(connection.connectionState()).toBe("connecting");
      expect(await pending).toEqual([
        { ok: true, value: null },
        { ok: true, value: [] },
      ]);
    } finally {
      await fake.close();
    }
  });
});
