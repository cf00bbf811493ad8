import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Services } from "../services.ts";

/** The Hono environment every route group shares: bindings from wrangler.toml, per-request services. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & { services: Services };
}

export type App = OpenAPIHono<AppEnv>;
