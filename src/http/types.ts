import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Services } from "../services.ts";
import type { IdempotentWrite } from "./idempotency.ts";

/** The Hono environment every route group shares: bindings from wrangler.toml, per-request services. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    services: Services;
    /** admin routes: who is calling (src/http/admin-auth.ts); never the key itself */
    actor: string;
    /** admin writes with an Idempotency-Key (src/http/idempotency.ts) */
    idempotency: IdempotentWrite | undefined;
  };
}

export type App = OpenAPIHono<AppEnv>;
