export { CallSession } from "./call/session.ts";
export { EmbeddedConfigStore } from "./stores/embedded.ts";
export { MongoConfigStore } from "./stores/mongodb.ts";

export default {
  fetch: () => new Response("ok"),
} satisfies ExportedHandler<Env>;
