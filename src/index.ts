export { CallSession } from "./call/session.ts";
export { EmbeddedConfigStore } from "./stores/embedded.ts";

export default {
  fetch: () => new Response("ok"),
} satisfies ExportedHandler<Env>;
