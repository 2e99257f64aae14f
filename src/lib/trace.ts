/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the trace id of an incoming
 * `traceparent` is kept so Herald's log lines join the caller's trace; without one (or with a
 * malformed one, which the spec says to ignore) a fresh trace id is made.
 */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZEROS = /^0+$/;

/** The trace id of a valid `traceparent`, or undefined. Version ff is invalid; all-zero ids too. */
export function traceIdOf(header: string | null | undefined): string | undefined {
  const m = TRACEPARENT.exec(header?.trim().toLowerCase() ?? "");
  if (!m || m[1] === "ff" || ZEROS.test(m[2]!) || ZEROS.test(m[3]!)) return undefined;
  return m[2];
}

const hex = (n: number) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

export const newTraceId = () => hex(16);

