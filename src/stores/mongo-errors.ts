import {
  MongoInvalidArgumentError,
  MongoMissingCredentialsError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerError,
} from "mongodb";
import { StoreError, type StoreErrorKind } from "./store.ts";

/**
 * What the official driver's failures mean to callers of a ConfigStore. Connection strings
 * carry the database password, so every message passed on is scrubbed of credentials first.
 */

const CREDENTIALS = /(mongodb(?:\+srv)?:\/\/)[^\s@]*@/gi;

/** `mongodb+srv://user:pass@host` → `mongodb+srv://<credentials>@host`, anywhere in the text. */
export function scrubCredentials(text: string): string {
  return text.replace(CREDENTIALS, "$1<credentials>@");
}

const DUPLICATE_KEY = 11000;
const AUTHENTICATION_FAILED = 18;
const UNAUTHORIZED = 13;
const MAX_TIME_MS_EXPIRED = 50;

export function storeErrorKind(err: unknown): StoreErrorKind {
  if (err instanceof StoreError) return err.kind;
  if (err instanceof MongoServerError) {
    if (err.code === DUPLICATE_KEY) return "conflict";
    if (err.code === AUTHENTICATION_FAILED || err.code === UNAUTHORIZED) return "auth";
    if (err.code === MAX_TIME_MS_EXPIRED) return "timeout";
    // Any other refusal (stepping down, shutting down, an unknown command): not usable now.
    return "unavailable";
  }
  // A network timeout is a MongoNetworkError too; every other network error is "unavailable".
  if (err instanceof MongoNetworkTimeoutError || err instanceof MongoOperationTimeoutError) return "timeout";
  // A bad connection string or option fails the same way on every attempt.
  if (
    err instanceof MongoParseError ||
    err instanceof MongoInvalidArgumentError ||
    err instanceof MongoMissingCredentialsError
  ) {
    return "misconfigured";
  }
  // MongoNetworkError, MongoServerSelectionError (no server reachable in time), a closed client.
  return "unavailable";
}

/**
 * A driver failure as a StoreError: `what` says which operation, the driver says why. The
 * driver's error stays as `cause` (logs follow the chain), scrubbed of credentials in place.
 */
export function storeErrorFrom(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  scrubChain(err);
  const why = err instanceof Error ? err.message : scrubCredentials(String(err));
  return new StoreError(storeErrorKind(err), `${what} failed: ${why}`, { cause: err });
}

function scrubChain(err: unknown): void {
  let current = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    current.message = scrubCredentials(current.message);
    current = current.cause;
  }
}
