/** The one error type our code throws on purpose; its code decides the HTTP status. */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  INVALID_PHONE_NUMBER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** a request with the same Idempotency-Key is still being answered */
  IDEMPOTENCY_IN_PROGRESS: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** an Idempotency-Key used before with another method, path or body */
  IDEMPOTENCY_KEY_REUSED: 422,
  UPGRADE_REQUIRED: 426,
  INTERNAL: 500,
  PROVIDER_ERROR: 502,
  ADMIN_DISABLED: 503,
  STORE_UNAVAILABLE: 503,
  STORE_TIMEOUT: 504,
  /** a write the store did not confirm in time: it may or may not have been applied */
  WRITE_OUTCOME_UNKNOWN: 504,
  PROVIDER_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  field?: string;
  rule?: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  /** Extra machine-readable facts for the error body, e.g. `current_version` on a 412. */
  readonly facts: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; cause?: unknown; facts?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details ?? [];
    this.facts = options.facts ?? {};
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorBody {
  success: false;
  error: { code: string; message: string; details: ErrorDetail[]; request_id?: string } & Record<
    string,
    unknown
  >;
}

export function errorBody(
  code: string,
  message: string,
  details: ErrorDetail[] = [],
  requestId?: string,
  facts: Record<string, unknown> = {},
): ErrorBody {
  return {
    success: false,
    error: { ...facts, code, message, details, ...(requestId ? { request_id: requestId } : {}) },
  };
}
