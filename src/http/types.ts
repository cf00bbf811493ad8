import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RequestIdVariables } from "hono/request-id";
import type { Services } from "../services.ts";
import type { IdempotentWrite } from "./idempotency.ts";

/** The Hono environment every route group shares: bindings from wrangler.toml, per-request services. */
export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    services: Services;
    /** admin routes: the name of the admin key used (ADMIN_API_KEY `name:key`), recorded in revisions */
    actor: string;
    /** admin routes: a non-reversible id of the key itself, which scopes Idempotency-Keys */
    keyId: string;
    /** admin writes with an Idempotency-Key (src/http/idempotency.ts) */
    idempotency: IdempotentWrite | undefined;
    /** a create from a template: its name (src/routes/admin-templates.ts) */
    template?: string | undefined;
  };
}

export type App = OpenAPIHono<AppEnv>;
