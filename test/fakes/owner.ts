import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type FakeServer, json, type NamespaceState, startFakeServer } from "./server.ts";

/**
 * A number owner's own service, the target of `webhook` tools: any POST path answers
 * 200 {"ok": true, "tool", "arguments"} (the shared frame's behaviours give 500s, delays and
 * non-JSON or oversized bodies). Each request's X-Signature is checked with the verifier README
 * shows owners, run exactly as printed there, and the verdicts are kept per namespace:
 *   GET [/ns/<id>]/__owner/checks -> [{path, signature, valid}]
 */

/** TOOL_SIGNING_SECRET in the Worker under test (vitest.config.ts). */
export const OWNER_FAKE_SIGNING_SECRET = "test-tool-signing-secret";

type Verifier = (secret: string, header: string, body: string) => boolean;

/** The README's verifier: the ```js block after the `tool-signature-verifier` marker, imported as a module. */
export async function readmeVerifier(readmePath = join(process.cwd(), "README.md")): Promise<Verifier> {
  const readme = readFileSync(readmePath, "utf8");
  const block = /<!-- tool-signature-verifier -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README.md has no tool-signature-verifier code block");
  const file = join(tmpdir(), `readme-verifier-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, block);
  const module = (await import(pathToFileURL(file).href)) as { verifyToolRequest?: Verifier };
  if (typeof module.verifyToolRequest !== "function")
    throw new Error("README's verifier exports no verifyToolRequest");
  return module.verifyToolRequest;
}

interface Check {
  path: string;
  signature: string;
  valid: boolean;
}

const checksOf = (state: NamespaceState): Check[] => {
  if (!state.has("checks")) state.set("checks", []);
  return state.get("checks") as Check[];
};

export async function startOwnerFake(): Promise<FakeServer> {
  const verify = await readmeVerifier();
  return startFakeServer("owner", (req, res, state) => {
    if (req.path === "/__owner/checks") return json(res, 200, checksOf(state));
    if (req.method !== "POST") return json(res, 405, { error: "POST only" });
    const signature = req.headers["x-signature"] ?? "";
    checksOf(state).push({
      path: req.path,
      signature,
      valid: verify(OWNER_FAKE_SIGNING_SECRET, signature, req.body),
    });
    let body: { tool?: unknown; arguments?: unknown } = {};
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return json(res, 400, { error: "not JSON" });
    }
    json(res, 200, { ok: true, tool: body.tool, arguments: body.arguments });
  });
}
