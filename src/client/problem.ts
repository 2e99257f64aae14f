/** The one error the client throws for an HTTP error: the API's problem+json, typed. */
export type FieldError = { field: string; message: string };

export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | null;
  readonly errors: FieldError[];
  /** Retry-After in seconds, on 429s. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, body: Partial<{ code: string; detail: string; requestId: string; errors: FieldError[] }>, headers: Headers) {
    const code = body.code ?? `http_${status}`;
    super(`${status} ${code}: ${body.detail ?? "request failed"}`);
    this.name = "ProblemError";
    this.status = status;
    this.code = code;
    this.detail = body.detail ?? "";
    this.requestId = body.requestId ?? headers.get("x-request-id");
    this.errors = body.errors ?? [];
    const retry = headers.get("retry-after");
    this.retryAfterSeconds = retry ? Number(retry) : null;
  }

  /** The message for one field, e.g. `recipientContact`, if the API named it. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

/** Reads an error response into a ProblemError, whether or not its body is problem+json. */
export async function problemFrom(res: Response): Promise<ProblemError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML error page): the status is all there is.
  }
  return new ProblemError(res.status, body, res.headers);
}
