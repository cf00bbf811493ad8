import { createRoute, z } from "@hono/zod-openapi";
import { ERROR_RESPONSES, json } from "../http/openapi.ts";
import type { App } from "../http/types.ts";
import { errorFields, log } from "../log.ts";
import { StoreError } from "../stores/store.ts";

const HealthResponse = z
  .object({
    status: z.enum(["ok", "degraded"]),
    store: z.object({
      backend: z.enum(["embedded", "data-api", "mongodb"]),
      ok: z.boolean(),
      ms: z.number(),
      error: z.string().optional(),
      connection: z.string().optional(),
    }),
  })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["Operations"],
  summary: "Whether the Worker and its config store answer",
  responses: {
    200: json(HealthResponse, "All good"),
    503: json(HealthResponse, "Store not answering"),
    500: ERROR_RESPONSES[500],
  },
});

/** Calls keep working with the store down (resolver fallbacks), so health says degraded, not dead. */
export function registerHealthRoutes(app: App): void {
  app.openapi(health, async (c) => {
    const { store } = c.var.services;
    const started = Date.now();
    let error: string | undefined;
    try {
      await store.ping();
    } catch (err) {
      log.warn("health_store_failed", { request_id: c.var.requestId, ...errorFields(err) });
      error = err instanceof StoreError ? `${err.kind}: ${err.message}` : "store check failed";
    }
    const connection =
      "connectionState" in store
        ? await (store as { connectionState(): Promise<string> }).connectionState()
        : undefined;
    const body = {
      status: error ? ("degraded" as const) : ("ok" as const),
      store: {
        backend: store.backend,
        ok: !error,
        ms: Date.now() - started,
        ...(error ? { error } : {}),
        ...(connection ? { connection } : {}),
      },
    };
    return c.json(body, error ? 503 : 200);
  });
}
