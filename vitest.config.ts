import { builtinModules } from "node:module";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { FAKES } from "./test/fakes/index.ts";
import { OWNER_FAKE_SIGNING_SECRET } from "./test/fakes/owner.ts";

/** Settings every Worker under test gets; tests import them from test/support/env.ts. */
const workerBindings = {
  ADMIN_API_KEY: "test-admin-key",
  TWILIO_AUTH_TOKEN: "test-twilio-auth-token",
  TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000",
  SIGNING_SECRET: "test-signing-secret",
  OPENAI_API_KEY: "sk-test",
  PUBLIC_BASE_URL: "https://voice.example.test",
  TOOL_SIGNING_SECRET: OWNER_FAKE_SIGNING_SECRET,
  // As under `npm run dev`: webhook tools may call the fake owner service over plain http on
  // 127.0.0.1 (tests of the https rule pass ENVIRONMENT=production themselves).
  ENVIRONMENT: "development",
};

const workers = cloudflareTest(({ inject }) => ({
  wrangler: { configPath: "./wrangler.toml" },
  miniflare: {
    bindings: {
      ...workerBindings,
      // The Worker's own providers are the fakes' root namespaces (used by the e2e tests).
      OPENAI_BASE_URL: `${inject<string>("fake:openai")}/v1`,
      TWILIO_API_BASE_URL: inject<string>("fake:twilio"),
      // The mongodb store's driver talks to the MongoDB wire-protocol fake; a live server joins
      // the conformance suite when MONGODB_TEST_URL is set (empty: that block is skipped).
      MONGODB_URL: inject<string>("mongo:url"),
      MONGODB_TEST_URL: process.env.MONGODB_TEST_URL ?? "",
      // Fake provider servers (test/fakes), reachable from inside workerd as FAKE_<NAME>_URL.
      ...Object.fromEntries(
        Object.keys(FAKES).map((name) => [`FAKE_${name.toUpperCase()}_URL`, inject<string>(`fake:${name}`)]),
      ),
    },
  },
}));

/**
 * The runner would resolve `require("bson")` inside the mongodb driver to the driver's own
 * lib/bson.js and recurse until the stack overflows; pre-bundling the driver avoids its
 * resolver, and declaring Node's builtins leaves `net`, `util`, ... to workerd.
 */
const workerdModules = {
  resolve: { builtins: [...builtinModules, /^node:/] },
};
const bundleDriver = { optimizer: { ssr: { enabled: true, include: ["mongodb"] } } };

export default defineConfig({
  test: {
    // A cold Durable Object (first call into workerd, the driver bundle) can take seconds on a
    // busy 2-core machine; these are limits against hangs, not performance assertions.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CI reads the counts from this file to print one plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".ci/results.json" }]] : ["default"],
    globalSetup: ["./test/global-setup.ts"],
    projects: [
      // Pure functions, routes, Durable Objects and stores, inside workerd; files run in parallel
      // and each uses its own namespace on the shared fake servers.
      {
        plugins: [workers],
        ...workerdModules,
        test: { name: "workers", include: ["test/{unit,integration}/**/*.test.ts"], deps: bundleDriver },
      },
      // Whole calls through the Worker's real bindings: those point at the fakes' root
      // namespace, so these files take turns.
      {
        plugins: [workers],
        ...workerdModules,
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], fileParallelism: false, deps: bundleDriver },
      },
      // Node-side tests: tools, scripts and fakes that run outside workerd.
      { test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" } },
      // Pages in real Chromium (playwright-core) against the Worker on local workerd; each file
      // starts its own Worker and browser, one file at a time on a 2-core machine.
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          fileParallelism: false,
        },
      },
    ],
  },
});
