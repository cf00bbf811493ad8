import { consoleRows } from "./console.ts";
import { profileFrom } from "./profile.ts";
import { loadAverage, renderFacts, renderTable } from "./report.ts";
import { machineFacts, startStack } from "./stack.ts";

/**
 * `node bench/console-only.ts [--quick]`: the console rows of `npm run bench` (issue 13) alone,
 * on their own stack, for measuring the dashboard pages without the rest of the bench around
 * them. Prints the rows and the machine's load average; writes no results file (the full run
 * owns bench/results/latest.json).
 */

const profile = profileFrom(process.argv.slice(2));
const startLoad = loadAverage();
const stack = await startStack();
try {
  const rows = await consoleRows(stack, profile);
  console.log(renderTable(rows));
  console.log(renderFacts(machineFacts(), { start: startLoad, end: loadAverage() }));
} catch (err) {
  console.error(stack.logs.problems());
  throw err;
} finally {
  await stack.close();
}
