import { describe, expect, it } from "vitest";
import { isFresh, kvTtlSeconds, MemoryCache, parseEntry } from "../../src/config/cache-policy.ts";

describe("config cache policy", () => {
  it("never asks KV for less than its 60 second minimum TTL", () => {
    expect(kvTtlSeconds(5)).toBe(60);
    expect(kvTtlSeconds(300)).toBe(300);
  });

  it("treats an entry as fresh for exactly its TTL", () => {
    const entry = { doc: null, fetchedAt: 1_000 };
    expect(isFresh(entry, 1_000 + 4_999, 5)).toBe(true);
    expect(isFresh(entry, 1_000 + 5_000, 5)).toBe(false);
  });

  it("reads back what was written and ignores anything else in KV", () => {
    expect(parseEntry(JSON.stringify({ doc: null, fetchedAt: 5 }))).toEqual({ doc: null, fetchedAt: 5 });
    expect(parseEntry(null)).toBeNull();
    expect(parseEntry(JSON.stringify({ something: "else" }))).toBeNull();
  });

  it("bounds the per-isolate memory, dropping the least recently written number", () => {
    const memory = new MemoryCache(2);
    memory.set("+1", { doc: null, fetchedAt: 1 });
    memory.set("+2", { doc: null, fetchedAt: 2 });
    memory.set("+1", { doc: null, fetchedAt: 3 });
    memory.set("+3", { doc: null, fetchedAt: 4 });
    expect(memory.get("+2")).toBeUndefined();
    expect(memory.get("+1")?.fetchedAt).toBe(3);
    expect(memory.get("+3")).toBeDefined();
  });
});
