import { swaggerUI } from "@hono/swagger-ui";
import type { App } from "../http/types.ts";

/** OpenAPI 3.1 generated from the same zod schemas that validate requests, and a page to try it. */
export function registerDocsRoutes(app: App): void {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_API_KEY",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Edge voice agent",
      version: "0.1.0",
      description:
        "Per-number AI voice agents for Twilio on Cloudflare Workers: the admin API (bearer key) and health. Twilio's webhooks are not described here: only Twilio calls them, signed (README, Connecting a real Twilio number).",
    },
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "Edge voice agent API" }));
}
