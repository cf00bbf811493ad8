import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseDevVars, scriptEnv } from "../../scripts/dev-vars.ts";

describe("parseDevVars", () => {
  it("reads KEY=VALUE lines, skipping blanks and comments", () => {
    expect(parseDevVars("# local settings\n\nCONFIG_STORE=mongodb\n  MONGODB_DB_NAME = voice \n")).toEqual({
      CONFIG_STORE: "mongodb",
      MONGODB_DB_NAME: "voice",
    });
  });

  it("keeps = signs inside a value and removes one pair of matching quotes", () => {
    expect(
      parseDevVars(
        'MONGODB_URL="mongodb+srv://u:p@c.example.net/?retryWrites=true&w=majority"\nGREETING=\'Hi "there"\'\r\nODD="half',
      ),
    ).toEqual({
      MONGODB_URL: "mongodb+srv://u:p@c.example.net/?retryWrites=true&w=majority",
      GREETING: 'Hi "there"',
      ODD: '"half',
    });
  });

  it("ignores lines that are not settings", () => {
    expect(parseDevVars("just words\n=nokey\nA=1")).toEqual({ A: "1" });
  });
});

describe("scriptEnv", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("takes .dev.vars, with the environment winning and empty environment values not counting", () => {
    dir = mkdtempSync(join(tmpdir(), "dev-vars-"));
    writeFileSync(
      join(dir, ".dev.vars"),
      "CONFIG_STORE=mongodb\nMONGODB_DB_NAME=from_file\nMONGODB_URL=mongodb://f/\n",
    );
    expect(scriptEnv(dir, { MONGODB_DB_NAME: "from_env", MONGODB_URL: "" })).toEqual({
      CONFIG_STORE: "mongodb",
      MONGODB_DB_NAME: "from_env",
      MONGODB_URL: "mongodb://f/",
    });
  });

  it("uses the environment alone when there is no .dev.vars", () => {
    dir = mkdtempSync(join(tmpdir(), "dev-vars-"));
    expect(scriptEnv(dir, { CONFIG_STORE: "embedded" })).toEqual({ CONFIG_STORE: "embedded" });
  });
});
