import { z } from "@hono/zod-openapi";

/**
 * The one OpenAPI contract for errors: every route documents its error answers from here, and
 * every one of them has the body `errorBody()` (src/errors.ts) builds and `onError` sends.
 */

export const ErrorResponse = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string().openapi({ description: "one of ERROR_STATUS's codes (src/errors.ts)" }),
      message: z.string(),
      details: z.array(
        z.object({ field: z.string().optional(), rule: z.string().optional(), message: z.string() }),
      ),
      request_id: z.string().optional(),
      current_version: z
        .number()
        .int()
        .optional()
        .openapi({ description: "on a 412 (If-Match) or a 409 (body version): the version that is current" }),
    }),
  })
  .openapi("Error");

/** A JSON response of `schema` for createRoute's `responses`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const error = (description: string) => json(ErrorResponse, description);

/** Every error answer an admin route can give, by status. */
export const ERROR_RESPONSES = {
  400: error("Invalid input: the details name each field and the rule it broke"),
  401: error("Missing bearer token"),
  403: error("The bearer token is not an admin key"),
  404: error("No such resource"),
  409: error("Conflict: changed concurrently, or a request with this Idempotency-Key is still running"),
  412: error("The If-Match version is not the stored one; `current_version` says which is"),
  413: error("Body over 64 KiB"),
  415: error("Body is not JSON"),
  422: error("Idempotency-Key reused with a different request"),
  500: error("Internal error"),
  502: error("A provider answered with an error"),
  503: error("Store unavailable, or ADMIN_API_KEY not set"),
  504: error("The store did not answer in time; for a write, whether it was applied is unknown"),
} as const;

type ErrorStatus = keyof typeof ERROR_RESPONSES;

/** The error answers of one route: its own statuses and those every admin route shares. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Pick<typeof ERROR_RESPONSES, S> {
  return Object.fromEntries(statuses.map((s) => [s, ERROR_RESPONSES[s]])) as Pick<typeof ERROR_RESPONSES, S>;
}

/** What any authenticated admin route may answer, whatever it does. */
export const ADMIN_ERRORS = [400, 401, 403, 500, 503, 504] as const;
/** ...and what an admin write may answer on top (body checks, idempotency, conflicts). */
export const WRITE_ERRORS = [...ADMIN_ERRORS, 404, 409, 413, 415, 422] as const;
