import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { FAKES } from "./test/fakes/index.ts";

export const TEST_ADMIN_KEY = "test-admin-key";
export const TEST_TWILIO_AUTH_TOKEN = "test-twilio-auth-token";

export default defineConfig({
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
  },
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          ADMIN_API_KEY: TEST_ADMIN_KEY,
          TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
          TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000",
          SIGNING_SECRET: "test-signing-secret",
          OPENAI_API_KEY: "sk-test",
          PUBLIC_BASE_URL: "https://voice.example.test",
          ...Object.fromEntries(
            Object.keys(FAKES).map((name) => [
              `FAKE_${name.toUpperCase()}_URL`,
              inject<string>(`fake:${name}`),
            ]),
          ),
        },
      },
    })),
  ],
});
