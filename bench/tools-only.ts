import { profileFrom } from "./profile.ts";
import { loadAverage, renderTable } from "./report.ts";
import { seedConfigNumbers } from "./seed.ts";
import { startStack } from "./stack.ts";
import { toolRows } from "./tools.ts";

/**
 * `node bench/tools-only.ts [--quick]`: issue 11's tools row alone (bench/tools.ts), for working
 * on it without running the whole bench. Prints the row and the load average around it.
 */

const profile = profileFrom(process.argv.slice(2));
const startLoad = loadAverage();
const stack = await startStack();
try {
  await seedConfigNumbers(stack);
  const rows = await toolRows(stack, profile);
  console.log(renderTable(rows));
  console.log(
    JSON.stringify(
      rows.map((r) => r.data),
      null,
      1,
    ),
  );
} catch (err) {
  console.error(stack.logs.problems());
  throw err;
} finally {
  await stack.close();
}
console.log(`load average: start ${startLoad.join(" ")}, end ${loadAverage().join(" ")}`);
