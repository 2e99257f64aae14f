/**
 * The one error the client throws for an HTTP error answer: the API's application/problem+json
 * (RFC 9457) body, typed. Network failures that outlive the retries are rethrown as they came.
 */
export type FieldError = { field: string; message: string };

/** The body every Herald error has (src/api/problem.ts on the server). */
export type Problem = {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: FieldError[];
};

export class ProblemError extends Error {
  readonly status: number;
  /** A URI naming the kind of problem, e.g. `https://herald.dev/problems/validation_failed`. */
  readonly type: string;
  readonly title: string;
  /** The problem's short code: `validation_failed`, `not_found`, `rate_limited`… */
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | null;
  /** Which fields were wrong and why, on 422s (and on 403s: the missing `scope`). */
  readonly errors: FieldError[];
  /** Retry-After in seconds, when the API sent one (429s). */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, body: Partial<Problem>, headers: Headers) {
    const code = typeof body.code === "string" ? body.code : `http_${status}`;
    super(`${status} ${code}: ${body.detail ?? "request failed"}`);
    this.name = "ProblemError";
    this.status = status;
    this.code = code;
    this.type = body.type ?? "about:blank";
    this.title = body.title ?? "";
    this.detail = body.detail ?? "";
    this.requestId = body.requestId ?? headers.get("x-request-id");
    this.errors = Array.isArray(body.errors) ? body.errors : [];
    this.retryAfterSeconds = retryAfterSeconds(headers.get("retry-after"));
  }

  /** The message for one field, e.g. `recipientContact`, if the API named it. */
  fieldError(field: string): string | undefined {
    return this.errors.find((e) => e.field === field)?.message;
  }
}

/** Retry-After as seconds from now: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterSeconds(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Reads an error answer into a ProblemError, whether or not its body is problem+json. */
export async function problemFrom(res: Response): Promise<ProblemError> {
  let body: Partial<Problem> = {};
  try {
    const json: unknown = await res.json();
    if (json !== null && typeof json === "object") body = json as Partial<Problem>;
  } catch {
    // Not JSON (a proxy's HTML error page): the status is all there is.
  }
  return new ProblemError(res.status, body, res.headers);
}
