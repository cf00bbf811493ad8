import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { PHRASES } from "../call/reply.ts";
import { SettingsError } from "../env.ts";
import { AppError, errorBody } from "../errors.ts";
import { errorFields, log } from "../log.ts";
import type { Services } from "../services.ts";
import { StoreError } from "../stores/store.ts";
import { goodbyeTwiml } from "../twilio/call-twiml.ts";

const STORE_ERROR_CODES = {
  conflict: "CONFLICT",
  timeout: "STORE_TIMEOUT",
  unavailable: "STORE_UNAVAILABLE",
  auth: "STORE_UNAVAILABLE",
  bad_response: "STORE_UNAVAILABLE",
  misconfigured: "STORE_UNAVAILABLE",
} as const;

/** Any thrown value as one of ours: known failures keep their meaning, the rest become INTERNAL. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof StoreError) {
    const message =
      err.kind === "conflict"
        ? err.message
        : `The configuration store is not answering (${err.kind}); try again`;
    return new AppError(STORE_ERROR_CODES[err.kind], message, { cause: err });
  }
  if (err instanceof HTTPException) {
    if (err.status === 400 && /json/i.test(err.message)) {
      return new AppError("INVALID_JSON", "Request body is not valid JSON", { cause: err });
    }
    if (err.status === 413) return new AppError("PAYLOAD_TOO_LARGE", err.message, { cause: err });
    if (err.status === 401) return new AppError("UNAUTHORIZED", err.message, { cause: err });
  }
  if (err instanceof SettingsError) {
    return new AppError("INTERNAL", "The Worker's settings are invalid; see the logs", { cause: err });
  }
  return new AppError("INTERNAL", "Internal error", { cause: err });
}

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A write the store did not confirm in time may still be applied when the store wakes up, so
 * "try again" would be wrong: the answer says the outcome is unknown and how to find it out.
 */
function writeOutcomeUnknown(err: AppError, method: string): AppError {
  if (err.code !== "STORE_TIMEOUT" || !WRITES.has(method)) return err;
  const message =
    "The configuration store did not confirm this write in time: it may or may not have been applied. " +
    "GET /admin/phone-config/{phone_number} shows what is stored (its version and updated_at); " +
    "a retry with the same Idempotency-Key is never applied twice.";
  return new AppError("WRITE_OUTCOME_UNKNOWN", message, {
    details: [{ rule: "outcome_unknown", message: "the write may have been applied" }],
    cause: err,
  });
}

/**
 * Twilio's voice webhooks are POSTs under /webhooks/twilio/; a 5xx there would make Twilio play
 * "an application error has occurred". Each route answers TwiML for its own failures, so this is
 * for what fails before a route runs (invalid settings): the caller hears a goodbye.
 */
function isVoiceWebhook(c: Context): boolean {
  return c.req.method === "POST" && c.req.path.startsWith("/webhooks/twilio/");
}

/** The one error handler: ours, Hono's HTTPException and unknown errors, each as the same JSON body. */
export function onError(err: Error, c: Context): Response {
  const appError = writeOutcomeUnknown(toAppError(err), c.req.method);
  const requestId = c.get("requestId") as string | undefined;
  // No services when building them failed (invalid settings): the request id is bound here then.
  const requestLog = (c.get("services") as Services | undefined)?.log ?? log.with({ request_id: requestId });
  const fields = { method: c.req.method, path: c.req.path, code: appError.code };
  if (appError.status >= 500) requestLog.error("request_failed", { ...fields, ...errorFields(err) });
  else requestLog.info("request_rejected", { ...fields, message: appError.message });
  if (appError.status >= 500 && isVoiceWebhook(c)) {
    return c.body(goodbyeTwiml(PHRASES.unavailable), 200, { "Content-Type": "text/xml; charset=utf-8" });
  }
  const response = c.json(
    errorBody(appError.code, appError.message, appError.details, requestId, appError.facts),
    appError.status as 400,
  );
  if (appError.code === "UNAUTHORIZED") response.headers.set("WWW-Authenticate", 'Bearer realm="admin"');
  return response;
}
