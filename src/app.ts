import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { errorBody } from "./errors.ts";
import { requireAdminKey } from "./http/admin-auth.ts";
import { onError } from "./http/errors.ts";
import type { AppEnv } from "./http/types.ts";
import { defaultHook } from "./http/validation.ts";
import { registerAnalyticsRoutes } from "./routes/admin-analytics.ts";
import { registerCallRoutes } from "./routes/admin-calls.ts";
import { registerImportExportRoutes } from "./routes/admin-import-export.ts";
import { registerPhoneConfigRoutes } from "./routes/admin-phone-configs.ts";
import { registerRoutingRoutes } from "./routes/admin-routing.ts";
import { registerTemplateRoutes } from "./routes/admin-templates.ts";
import { registerVersionRoutes } from "./routes/admin-versions.ts";
import { audioRoutes } from "./routes/audio.ts";
import { dashboardRoutes } from "./routes/dashboard/index.tsx";
import { registerDocsRoutes } from "./routes/docs.tsx";
import { registerHealthRoutes } from "./routes/health.ts";
import { twilioVoiceRoutes } from "./routes/twilio-voice.ts";
import { servicesFor } from "./services.ts";

/** Builds the Worker's HTTP app: middleware, one error handler, and the route groups. */
export function createApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook });
  app.use(requestId());
  app.use(async (c, next) => {
    c.set("services", servicesFor(c.env, c.executionCtx, c.var.requestId));
    await next();
  });
  app.onError(onError);
  app.notFound((c) => c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`), 404));

  const admin = new OpenAPIHono<AppEnv>({ defaultHook });
  admin.use(requireAdminKey);
  registerPhoneConfigRoutes(admin);
  registerRoutingRoutes(admin);
  registerVersionRoutes(admin);
  registerTemplateRoutes(admin);
  registerImportExportRoutes(admin);
  registerCallRoutes(admin);
  registerAnalyticsRoutes(admin);
  app.route("/admin", admin);
  app.route("/webhooks/twilio", twilioVoiceRoutes());
  app.route("/audio", audioRoutes());
  app.route("/dashboard", dashboardRoutes());

  registerHealthRoutes(app);
  registerDocsRoutes(app);
  return app;
}
