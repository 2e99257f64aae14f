/**
 * One error type for everything a request can fail with. Code that is not handling a request
 * throws these too (or returns Results); only src/api/app.ts turns them into HTTP responses,
 * as application/problem+json.
 */
export const ERROR_CODES = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** Mailgun reads it as "rejected, do not retry". */
  not_acceptable: 406,
  payload_too_large: 413,
  validation_failed: 422,
  idempotency_mismatch: 422,
  no_provider: 422,
  rate_limited: 429,
  quota_exceeded: 429,
  internal: 500,
  not_implemented: 501,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export type FieldError = { field: string; message: string };

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly errors?: FieldError[],
    /** Headers the response must carry (Retry-After, RateLimit). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "AppError";
    this.status = ERROR_CODES[code];
  }
}

export const notFound = (what: string) => new AppError("not_found", `${what} not found`);
