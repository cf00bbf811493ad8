import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { FAKES } from "./test/fakes/index.ts";

/** Settings every Worker under test gets; tests import them from test/support/env.ts. */
const workerBindings = {
  ADMIN_API_KEY: "test-admin-key",
  TWILIO_AUTH_TOKEN: "test-twilio-auth-token",
  TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000",
  SIGNING_SECRET: "test-signing-secret",
  OPENAI_API_KEY: "sk-test",
  PUBLIC_BASE_URL: "https://voice.example.test",
};

const workers = cloudflareTest(({ inject }) => ({
  wrangler: { configPath: "./wrangler.toml" },
  miniflare: {
    bindings: {
      ...workerBindings,
      // The Worker's own providers are the fakes' root namespaces (used by the e2e tests).
      OPENAI_BASE_URL: `${inject<string>("fake:openai")}/v1`,
      TWILIO_API_BASE_URL: inject<string>("fake:twilio"),
      // Fake provider servers (test/fakes), reachable from inside workerd as FAKE_<NAME>_URL.
      ...Object.fromEntries(
        Object.keys(FAKES).map((name) => [`FAKE_${name.toUpperCase()}_URL`, inject<string>(`fake:${name}`)]),
      ),
    },
  },
}));

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    projects: [
      // Pure functions, routes, Durable Objects and stores, inside workerd; files run in parallel
      // and each uses its own namespace on the shared fake servers.
      { plugins: [workers], test: { name: "workers", include: ["test/{unit,integration}/**/*.test.ts"] } },
      // Whole calls through the Worker's real bindings: those point at the fakes' root
      // namespace, so these files take turns.
      {
        plugins: [workers],
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], fileParallelism: false },
      },
      // Node-side tests: tools, scripts and fakes that run outside workerd.
      { test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" } },
    ],
  },
});
