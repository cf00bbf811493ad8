import { existsSync, readFileSync } from "node:fs";

/**
 * Settings for the Node-side scripts, as the Worker would see them locally: `.dev.vars`
 * (KEY=VALUE lines, # comments, optional quotes), overridden by the process environment.
 */
export function readDevVars(path = ".dev.vars"): Record<string, string> {
  if (!existsSync(path)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1]) continue;
    vars[match[1]] = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

export function scriptSettings(path = ".dev.vars"): Record<string, string> {
  const fromEnv = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return { ...readDevVars(path), ...fromEnv };
}
