import { existsSync, readFileSync } from "node:fs";

/**
 * `.dev.vars` for Node scripts: the KEY=VALUE file `wrangler dev` reads. Blank lines and
 * `#` comments are skipped; one pair of matching quotes around a value is removed.
 */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    // Like wrangler's own reader, a line that is not KEY=VALUE is not a setting.
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    vars[key] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return vars;
}

/**
 * Settings for a script: `.dev.vars` in `dir` when present, overridden by the process
 * environment (where, as in src/env.ts, an empty value means "not set").
 */
export function scriptEnv(dir: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const path = `${dir}/.dev.vars`;
  const fromFile = existsSync(path) ? parseDevVars(readFileSync(path, "utf8")) : {};
  const fromEnv = Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "",
    ),
  );
  return { ...fromFile, ...fromEnv };
}
