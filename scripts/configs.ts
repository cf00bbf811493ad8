/**
 * `npm run configs:export -- FILE` and `npm run configs:import -- FILE [--dry-run] [--prune]`:
 * configuration as code against a running server (BASE_URL, default http://localhost:4002)
 * with ADMIN_API_KEY (from the environment or ./.dev.vars; a `name:key` entry's key is used).
 * The import prints the plan as a table. Runs in Node (type stripping).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { scriptEnv } from "./dev-vars.ts";

interface PlanEntry {
  phone_number: string;
  action: string;
  changed_fields?: string[];
}

/** The first key of ADMIN_API_KEY, without its name. */
export function bearerKey(value: string | undefined): string {
  const entry = (value ?? "").split(",")[0]?.trim() ?? "";
  const named = /^([A-Za-z0-9][A-Za-z0-9._@-]{0,63}):(.+)$/.exec(entry);
  return named?.[2]?.trim() ?? entry;
}

/** The plan as a plain-text table: number, action, changed fields. */
export function planTable(plan: PlanEntry[], templates: { name: string; action: string }[]): string {
  const rows = [
    ["phone_number", "action", "changed_fields"],
    ...plan.map((p) => [p.phone_number, p.action, (p.changed_fields ?? []).join(", ")]),
    ...templates.map((t) => [`template ${t.name}`, t.action, ""]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [command, file, ...flags] = argv;
  const env = scriptEnv(process.cwd(), process.env);
  const base = (env.BASE_URL ?? "http://localhost:4002").replace(/\/+$/, "");
  const key = bearerKey(env.ADMIN_API_KEY);
  if (!file || (command !== "export" && command !== "import")) {
    console.error("usage: configs export FILE | configs import FILE [--dry-run] [--prune]");
    return 2;
  }
  if (!key) {
    console.error("ADMIN_API_KEY is not set (environment or .dev.vars)");
    return 2;
  }
  const headers = { Authorization: `Bearer ${key}`, "Content-Type": "application/json" };
  if (command === "export") {
    const res = await fetch(`${base}/admin/phone-configs/export`, { headers });
    const body = await res.text();
    if (!res.ok) {
      console.error(`export failed (HTTP ${res.status}): ${body}`);
      return 1;
    }
    writeFileSync(file, `${JSON.stringify(JSON.parse(body), null, 2)}\n`);
    const doc = JSON.parse(body) as { configs: unknown[]; templates: unknown[] };
    console.log(`exported ${doc.configs.length} numbers and ${doc.templates.length} templates to ${file}`);
    return 0;
  }
  const query = new URLSearchParams({
    dry_run: String(flags.includes("--dry-run")),
    prune: String(flags.includes("--prune")),
  });
  const res = await fetch(`${base}/admin/phone-configs/import?${query}`, {
    method: "POST",
    headers,
    body: readFileSync(file, "utf8"),
  });
  const body = (await res.json().catch(() => null)) as {
    plan?: PlanEntry[];
    templates?: { name: string; action: string }[];
    error?: { message: string; details: { field?: string; message: string }[] };
  } | null;
  if (!res.ok || !body?.plan) {
    console.error(`import refused (HTTP ${res.status}): ${body?.error?.message ?? "no answer"}`);
    for (const d of body?.error?.details ?? []) console.error(`  ${d.field ?? ""}: ${d.message}`);
    return 1;
  }
  console.log(planTable(body.plan, body.templates ?? []));
  console.log(flags.includes("--dry-run") ? "dry run: nothing was written" : "applied");
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
