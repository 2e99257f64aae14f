/** RFC 9457 problem details: the one error body shape, always carrying the request id. */
import type { FieldError } from "../lib/errors";

export type Problem = {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: FieldError[];
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Payload Too Large",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
};

export function problem(status: number, code: string, detail: string, requestId: string, errors?: FieldError[]): Response {
  const body: Problem = {
    type: `https://herald.dev/problems/${code}`,
    title: TITLES[status] ?? "Error",
    status,
    code,
    detail,
    requestId,
    ...(errors?.length ? { errors } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId },
  });
}
