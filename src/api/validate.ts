/**
 * Request parsing at the edge: JSON bodies and query strings through zod. Failures become
 * AppErrors naming each field, so the client learns exactly what to fix.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AppError, type FieldError } from "../lib/errors";

export const fieldErrors = (error: z.ZodError, prefix = ""): FieldError[] =>
  error.issues.map((issue) => ({
    field: prefix + (issue.path.length ? issue.path.join(".") : "(body)"),
    message: issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message,
  }));

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, prefix);
    throw new AppError("validation_failed", `invalid request: ${errors.map((e) => e.field).join(", ")}`, errors);
  }
  return parsed.data;
}

/** Deeper than any real payload; deep enough to stop a stack overflow when the body is used. */
export const MAX_JSON_DEPTH = 32;

/**
 * What zod cannot see: nesting so deep that using the value later overflows the stack, strings
 * with unpaired surrogates (D1 would store them mangled), and `__proto__` keys (copied by
 * assignment, they vanish). Walked with an explicit stack, so checking cannot overflow either.
 */
export function inspectJson(value: unknown): FieldError | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: "", depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    const field = path || "(body)";
    if (typeof v === "string") {
      if (!v.isWellFormed()) return { field, message: "contains an unpaired surrogate (ill-formed UTF-16)" };
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_JSON_DEPTH) return { field, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    for (const [k, child] of Object.entries(v)) {
      if (k === "__proto__") return { field: path ? `${path}.${k}` : k, message: "is not an allowed key" };
      if (!k.isWellFormed()) return { field, message: "has a key with an unpaired surrogate" };
      stack.push({ v: child, path: path ? `${path}.${k}` : k, depth: depth + 1 });
    }
  }
  return undefined;
}

function parseJson(raw: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AppError("bad_request", "request body is not valid JSON");
  }
  const problem = inspectJson(json);
  if (problem) throw new AppError("validation_failed", `invalid request: ${problem.field}`, [problem]);
  return json;
}

/** Reads the raw body once (idempotency hashes it) and parses it as JSON. */
export async function readJson(c: Context): Promise<{ raw: string; json: unknown }> {
  const raw = await c.req.text();
  if (raw.trim() === "") throw new AppError("bad_request", "request body is empty; send a JSON object");
  return { raw, json: parseJson(raw) };
}

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, (await readJson(c)).json);
}

export const queryOf = <S extends z.ZodType>(c: Context, schema: S): z.output<S> => parseWith(schema, c.req.query());

/** A body that may be omitted entirely (e.g. resend without overrides). */
export async function optionalJson<S extends z.ZodType>(c: Context, schema: S, fallback: z.output<S>): Promise<z.output<S>> {
  const raw = await c.req.text();
  if (raw.trim() === "") return fallback;
  return parseWith(schema, parseJson(raw));
}
