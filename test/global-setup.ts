import type { TestProject } from "vitest/node";
import { FAKES } from "./fakes/index.ts";
import { startMongoWireFake } from "./fakes/mongo-wire.ts";
import { watchRuntimeLog } from "./support/runtime-log.ts";

/**
 * Starts every fake provider server once for the run (in Node, outside workerd) and hands
 * their URLs to vitest.config.ts, which passes them to the Worker as bindings. At the end, fails
 * the run if workerd logged an uncaught exception during any test (test/support/runtime-log.ts).
 */
export default async function setup(project: TestProject) {
  const uncaught = watchRuntimeLog();
  const started = await Promise.all(
    Object.entries(FAKES).map(async ([name, start]) => [name, await start()] as const),
  );
  for (const [name, server] of started) project.provide(`fake:${name}` as never, server.url as never);
  // TCP, not HTTP, so not one of FAKES: namespaced by database name instead.
  const mongo = await startMongoWireFake();
  project.provide("mongo:url" as never, mongo.url as never);
  return async () => {
    await Promise.all([...started.map(([, server]) => server.close()), mongo.close()]);
    if (uncaught.length > 0) {
      throw new Error(`workerd logged ${uncaught.length} uncaught exception(s):\n${uncaught.join("\n")}`);
    }
  };
}
