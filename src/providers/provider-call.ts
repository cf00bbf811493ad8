import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai";
import { withRetryAfter } from "./retry-after.ts";
import { ProviderError, type ProviderOperation } from "./types.ts";

/**
 * One OpenAI request's lifetime, shared by the three adapters in openai.ts: its timeout (paused
 * while a stream's consumer holds a chunk), the caller's signal (a hang-up or the turn's budget),
 * the one retry a short `retry-after` allows, and the mapping of every failure to a
 * ProviderError with the API key scrubbed from it.
 */

/** The provider name on every ProviderError this module makes. */
export const PROVIDER = "openai";

/** Starts calls that share the timeout and the secret to keep out of error messages. */
export class CallFactory {
  private readonly timeoutMs: number;
  private readonly apiKey: string;

  constructor(timeoutMs: number, apiKey: string) {
    this.timeoutMs = timeoutMs;
    this.apiKey = apiKey;
  }

  start(operation: ProviderOperation, callerSignal: AbortSignal | undefined): ProviderCall {
    return new ProviderCall(operation, this.timeoutMs, this.apiKey, callerSignal);
  }

  /** One request whose whole answer must arrive within the timeout. */
  async run<T>(
    operation: ProviderOperation,
    callerSignal: AbortSignal | undefined,
    body: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const call = this.start(operation, callerSignal);
    try {
      return await call.send(() => body(call.signal));
    } catch (err) {
      throw call.failure(err);
    } finally {
      call.end();
    }
  }
}

/**
 * One provider call's signal: it aborts when the caller's signal does, or when the provider
 * has kept us waiting for the timeout. The wait is paused while a stream's consumer holds a chunk.
 */
export class ProviderCall {
  /**
   * Aborted without a reason on purpose: workerd logs a fetch aborted with a reason of ours as an
   * "uncaught exception" while its request body is still being sent (cloudflare/workerd#1020),
   * which is every hang-up mid-upload. Why the call stopped is read from `callerSignal` and
   * `#timedOut` instead.
   */
  readonly #controller = new AbortController();
  readonly #onCallerAbort = () => this.#controller.abort();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;

  readonly operation: ProviderOperation;
  private readonly timeoutMs: number;
  private readonly apiKey: string;
  private readonly callerSignal: AbortSignal | undefined;

  constructor(
    operation: ProviderOperation,
    timeoutMs: number,
    apiKey: string,
    callerSignal: AbortSignal | undefined,
  ) {
    this.operation = operation;
    this.timeoutMs = timeoutMs;
    this.apiKey = apiKey;
    this.callerSignal = callerSignal;
    if (callerSignal?.aborted) this.#controller.abort();
    else callerSignal?.addEventListener("abort", this.#onCallerAbort, { once: true });
    this.resume();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Sends `request`, and once more after a short `retry-after` (src/providers/retry-after.ts). */
  send<T>(request: () => Promise<T>): Promise<T> {
    return withRetryAfter(this.signal, request);
  }

  pause(): void {
    clearTimeout(this.#timer);
  }

  resume(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort();
    }, this.timeoutMs);
  }

  end(): void {
    clearTimeout(this.#timer);
    this.callerSignal?.removeEventListener("abort", this.#onCallerAbort);
  }

  /** Any failure during the call as a ProviderError, with the API key scrubbed from the cause chain. */
  failure(err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    scrubSecret(err, this.apiKey);
    const op = this.operation;
    const fail = (kind: ProviderError["kind"], message: string, status?: number) =>
      new ProviderError(
        { provider: PROVIDER, operation: op, kind, ...(status === undefined ? {} : { status }) },
        redact(message, this.apiKey),
        { cause: err },
      );

    if (this.#timedOut) return fail("timeout", `OpenAI ${op} got no answer within ${this.timeoutMs} ms`);
    if (this.callerSignal?.aborted) {
      const reason: unknown = this.callerSignal.reason;
      return reason instanceof DOMException && reason.name === "TimeoutError"
        ? fail("timeout", `OpenAI ${op} ran out of the caller's time budget`)
        : fail("aborted", `OpenAI ${op} was cancelled by the caller`);
    }
    if (err instanceof APIConnectionTimeoutError) return fail("timeout", `OpenAI ${op} timed out`);
    if (err instanceof APIConnectionError)
      return fail("network", `OpenAI ${op} could not connect: ${err.message}`);
    if (err instanceof APIError && err.status !== undefined) {
      if (isAudioTooShort(err)) return fail("audio_too_short", `OpenAI ${op}: ${err.message}`, err.status);
      return fail("http", `OpenAI ${op} failed: ${err.message}`, err.status);
    }
    // In-band stream errors, unparseable bodies and anything else the SDK could not make sense of.
    const message = err instanceof Error ? err.message : String(err);
    return fail("bad_response", `OpenAI ${op} returned an unusable response: ${message}`);
  }
}

/**
 * OpenAI refuses audio under 0.1 s with 400: whisper-1 says code `audio_too_short`; the
 * gpt-4o transcribe models say code `invalid_value`, "audio duration ... is shorter than 0.1
 * seconds which is the minimum for this model".
 */
function isAudioTooShort(err: APIError): boolean {
  return (
    err.status === 400 &&
    (err.code === "audio_too_short" || (err.code === "invalid_value" && /shorter than/i.test(err.message)))
  );
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join("[redacted]") : text;
}

/**
 * A server or proxy may echo the key back in an error body, which the SDK puts in its error
 * message; that error is kept as our `cause` and logs follow causes, so the key goes first.
 */
function scrubSecret(err: unknown, secret: string): void {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    // Only where needed: some runtime errors (DOMException) have a read-only message.
    if (secret && current.message.includes(secret)) current.message = redact(current.message, secret);
    current = current.cause;
  }
}
