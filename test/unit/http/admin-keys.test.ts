import { describe, expect, it } from "vitest";
import { parseAdminKeys } from "../../../src/http/admin-keys.ts";

describe("ADMIN_API_KEY entries", () => {
  it("reads name:key pairs and bare keys (named admin), comma-separated", () => {
    expect(parseAdminKeys("alice:k-alice-1, ci-bot:k-ci-2,legacy-bare-key")).toEqual([
      { name: "alice", key: "k-alice-1" },
      { name: "ci-bot", key: "k-ci-2" },
      { name: "admin", key: "legacy-bare-key" },
    ]);
  });

  it("keeps a key whose colon does not follow a name whole, as a bare key", () => {
    expect(parseAdminKeys(":starts-with-colon, has space:x, alice:")).toEqual([
      { name: "admin", key: ":starts-with-colon" },
      { name: "admin", key: "has space:x" },
      { name: "admin", key: "alice:" },
    ]);
  });

  it("has no keys when unset or blank", () => {
    expect(parseAdminKeys(undefined)).toEqual([]);
    expect(parseAdminKeys(" , ")).toEqual([]);
  });
});
