import { measureFloor } from "./config.ts";
import { profileFrom } from "./profile.ts";
import { loadAverage, type Row, renderFacts, renderTable } from "./report.ts";
import { seedConfigNumbers } from "./seed.ts";
import { machineFacts, startStack } from "./stack.ts";
import { webhookRows } from "./webhooks.ts";

/**
 * `node bench/webhooks-only.ts [--quick]`: only the webhook section of `npm run bench` (the
 * incoming-call webhook against the empty route measured in the same run, the signature and
 * TwiML costs, the added latency per turn), for working on the call path on a shared machine
 * without running the whole bench. Prints the rows and the load average; writes no results file.
 */

const profile = profileFrom(process.argv.slice(2));
const startLoad = loadAverage();
const stack = await startStack();
const rows: Row[] = [];
try {
  await seedConfigNumbers(stack);
  const floor = await measureFloor(stack, profile);
  rows.push({
    issue: "2,3",
    measurement: `runtime floor: GET /__bench/empty (${profile.load.concurrency} concurrent)`,
    value: `${Math.round(floor.perSecond)} req/s`,
    baseline: "",
    notes: "",
  });
  rows.push(...(await webhookRows(stack, profile, floor)));
} catch (err) {
  console.error(stack.logs.problems());
  throw err;
} finally {
  await stack.close();
}
console.log(renderTable(rows));
console.log(renderFacts(machineFacts(), { start: startLoad, end: loadAverage() }));
const problems = stack.logs.problems();
console.log(
  `worker warnings/errors: ${problems.length ? problems.map((p) => p.summary).join(", ") : "none"}`,
);
