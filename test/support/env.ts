import { env } from "cloudflare:workers";

/**
 * The Worker's bindings as tests see them: the real KV and Durable Object namespaces from
 * wrangler.toml plus the settings and fake-server URLs vitest.config.ts adds.
 */
export interface TestEnv extends Env {
  ADMIN_API_KEY: string;
  TWILIO_AUTH_TOKEN: string;
  TWILIO_ACCOUNT_SID: string;
  SIGNING_SECRET: string;
  OPENAI_API_KEY: string;
  PUBLIC_BASE_URL: string;
  /** Fake servers' root URLs (test/fakes); use fakeControl() for a namespace of your own. */
  FAKE_DATA_API_URL: string;
  FAKE_TWILIO_URL: string;
  FAKE_OPENAI_URL: string;
  /** a number owner's service, for webhook tools (test/fakes/owner.ts) */
  FAKE_OWNER_URL: string;
  TOOL_SIGNING_SECRET: string;
  /** the MongoDB wire-protocol fake; MONGODB_TEST_URL a live server, or "" */
  MONGODB_URL: string;
  MONGODB_TEST_URL: string;
}

export const testEnv = env as unknown as TestEnv;
