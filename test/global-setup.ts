import type { TestProject } from "vitest/node";
import { FAKES } from "./fakes/index.ts";
import { startMongoWireFake } from "./fakes/mongo-wire.ts";

/**
 * Starts every fake provider server once for the run (in Node, outside workerd) and hands
 * their URLs to vitest.config.ts, which passes them to the Worker as bindings.
 */
export default async function setup(project: TestProject) {
  const started = await Promise.all(
    Object.entries(FAKES).map(async ([name, start]) => [name, await start()] as const),
  );
  for (const [name, server] of started) project.provide(`fake:${name}` as never, server.url as never);
  // TCP, not HTTP, so not one of FAKES: namespaced by database name instead.
  const mongo = await startMongoWireFake();
  project.provide("mongo:url" as never, mongo.url as never);
  return async () => {
    await Promise.all([...started.map(([, server]) => server.close()), mongo.close()]);
  };
}
