import { configRows, measureFloor, mongodbRow } from "./config.ts";
import { consoleRows } from "./console.ts";
import { historyRows } from "./history.ts";
import { profileFrom } from "./profile.ts";
import { loadAverage, type Row, renderFacts, renderTable, writeResults } from "./report.ts";
import { routingRows } from "./routing.ts";
import { seedConfigNumbers } from "./seed.ts";
import { machineFacts, startStack } from "./stack.ts";
import { toolRows } from "./tools.ts";
import { voiceRows } from "./voice.ts";
import { webhookRows } from "./webhooks.ts";

/**
 * `npm run bench [-- --quick]`: every measurement in one run against one local stack (fakes +
 * bench Worker on workerd), printed as one table whose baselines were measured in the same
 * run, and written to bench/results/latest.json. Set MONGODB_TEST_URL to include the mongodb
 * store.
 */

const profile = profileFrom(process.argv.slice(2));
const started = performance.now();
const startLoad = loadAverage();
const mongodbUrl = process.env.MONGODB_TEST_URL?.trim() || undefined;
const stack = await startStack(mongodbUrl ? { mongodbUrl } : {});
const rows: Row[] = [];
try {
  await seedConfigNumbers(stack);
  const floor = await measureFloor(stack, profile);
  const config = await configRows(stack, profile, floor);
  rows.push(...config.rows);
  rows.push(...(await historyRows(stack, profile)));
  rows.push(...(await webhookRows(stack, profile, floor)));
  rows.push(...(await toolRows(stack, profile)));
  rows.push(...(await voiceRows(stack, profile)));
  rows.push(await mongodbRow(stack, profile, config.storeMissUs));
  // Last: it fills the store and the call log, which the rows above measure empty.
  rows.push(...(await consoleRows(stack, profile)));
  rows.push(...(await routingRows(stack, profile)));
} catch (err) {
  // What the Worker logged often says why a measurement failed.
  console.error(stack.logs.problems());
  throw err;
} finally {
  await stack.close();
}

const facts = machineFacts();
const load = { start: startLoad, end: loadAverage() };
const seconds = (performance.now() - started) / 1000;
console.log(renderTable(rows));
console.log(renderFacts(facts, load));
const problems = stack.logs.problems();
console.log(
  `worker warnings/errors during the run: ${problems.length ? problems.map((p) => p.summary).join(", ") : "none"}`,
);
console.log(
  `bench took ${seconds.toFixed(0)} s${profile.quick ? " (--quick: tiny durations, numbers indicative only)" : ""}`,
);
writeResults(new URL("./results/latest.json", import.meta.url), {
  generated_at: new Date().toISOString(),
  quick: profile.quick,
  seconds,
  machine: facts,
  load_average: load,
  worker_problems: problems,
  rows,
});
