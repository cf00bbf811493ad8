import {
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { describe, expect, it } from "vitest";
import { errorFields } from "../../src/log.ts";
import { scrubCredentials, storeErrorFrom, storeErrorKind } from "../../src/stores/mongo-errors.ts";
import { StoreError } from "../../src/stores/store.ts";

// The driver's own error classes, built as the driver builds them (its constructors are internal).
const serverError = (code: number, errmsg: string) => new MongoServerError({ code, errmsg, message: errmsg });
const noServer = () =>
  new MongoServerSelectionError(
    "connect ECONNREFUSED 127.0.0.1:27017",
    {} as ConstructorParameters<typeof MongoServerSelectionError>[1],
  );

describe("scrubCredentials", () => {
  it("removes the user and password from mongodb and mongodb+srv URLs anywhere in a message", () => {
    expect(
      scrubCredentials(
        "bad url mongodb+srv://voice:p%40ss@cluster0.abcd.mongodb.net/db?retryWrites=true and mongodb://admin:hunter2@10.0.0.1:27017/",
      ),
    ).toBe(
      "bad url mongodb+srv://<credentials>@cluster0.abcd.mongodb.net/db?retryWrites=true and mongodb://<credentials>@10.0.0.1:27017/",
    );
  });

  it("leaves URLs without credentials and other text alone", () => {
    const text = "connect ECONNREFUSED mongodb://127.0.0.1:27017/ (user@example.com)";
    expect(scrubCredentials(text)).toBe(text);
  });
});

describe("storeErrorKind", () => {
  it.each([
    ["a duplicate key", serverError(11000, "E11000 duplicate key error"), "conflict"],
    ["a refused login", serverError(18, "Authentication failed."), "auth"],
    ["a missing privilege", serverError(13, "not authorized on voiceagent to execute command"), "auth"],
    ["a server-side time limit", serverError(50, "operation exceeded time limit"), "timeout"],
    ["a primary stepping down", serverError(189, "PrimarySteppedDown"), "unavailable"],
    ["a socket timeout", new MongoNetworkTimeoutError("connection timed out"), "timeout"],
    ["a dropped connection", new MongoNetworkError("connection closed"), "unavailable"],
    ["no reachable server", noServer(), "unavailable"],
    ["a closed client", new MongoTopologyClosedError(), "unavailable"],
    ["a malformed connection string", new MongoParseError("Invalid scheme"), "misconfigured"],
  ] as const)("maps %s to %s", (_, err, kind) => {
    expect(storeErrorKind(err)).toBe(kind);
  });

  it("keeps a StoreError's own kind", () => {
    expect(storeErrorKind(new StoreError("bad_response", "stored document is not valid"))).toBe(
      "bad_response",
    );
  });
});

describe("storeErrorFrom", () => {
  it("names the operation, keeps the driver's reason and error as cause, and drops credentials", () => {
    const driverError = new MongoNetworkError("cannot reach mongodb://voice:hunter2@db.example.net:27017/", {
      cause: new Error("getaddrinfo ENOTFOUND for mongodb://voice:hunter2@db.example.net:27017/"),
    });
    const err = storeErrorFrom(driverError, "mongodb connect");
    expect(err).toBeInstanceOf(StoreError);
    expect(err.kind).toBe("unavailable");
    expect(err.message).toBe(
      "mongodb connect failed: cannot reach mongodb://<credentials>@db.example.net:27017/",
    );
    expect(err.cause).toBe(driverError);
    // What a log line shows: the whole cause chain, still without the password.
    expect(errorFields(err).error).not.toContain("hunter2");
  });

  it("passes a StoreError through unchanged", () => {
    const original = new StoreError("conflict", "+14155550100 already exists");
    expect(storeErrorFrom(original, "mongodb put")).toBe(original);
  });
});
