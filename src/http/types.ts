import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Services } from "../services.ts";

/** The Hono environment every route group shares: bindings from wrangler.toml, per-request services. */
export interface AppEnv {
  Bindings: Env;
  /** `actor`: the name of the admin key that authenticated the request (src/http/admin-auth.ts). */
  Variables: RequestIdVariables & { services: Services; actor?: string };
}

export type App = OpenAPIHono<AppEnv>;
