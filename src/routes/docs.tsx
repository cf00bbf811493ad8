import { pageHeaders } from "../http/page-headers.ts";
import type { App } from "../http/types.ts";

/**
 * OpenAPI 3.1 generated from the same zod schemas that validate requests, and Swagger UI to
 * try it. Swagger UI's files are the pinned `swagger-ui-dist` package, copied into
 * assets/vendor/ by scripts/vendor-assets.ts and served as static assets: no CDN.
 */
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
  app.get("/docs", pageHeaders, (c) =>
    c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>Edge voice agent API</title>
          <link rel="stylesheet" href="/vendor/swagger-ui-dist/swagger-ui.css" />
          <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        </head>
        <body>
          <div id="swagger-ui" data-spec-url="/openapi.json" />
          <script src="/vendor/swagger-ui-dist/swagger-ui-bundle.js" />
          <script src="/console/swagger-init.js" />
        </body>
      </html>,
    ),
  );
}
