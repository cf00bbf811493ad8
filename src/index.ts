import { createApp } from "./app.ts";

export { CallLog } from "./call/call-log.ts";
export { CallSession } from "./call/session.ts";
export { IdempotencyRecord } from "./http/idempotency-record.ts";
export { EmbeddedConfigStore } from "./stores/embedded.ts";
export { MongoConfigStore } from "./stores/mongodb.ts";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
