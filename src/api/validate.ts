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

/** Reads the raw body once (idempotency hashes it) and parses it as JSON. */
export async function readJson(c: Context): Promise<{ raw: string; json: unknown }> {
  const raw = await c.req.text();
  if (raw.trim() === "") throw new AppError("bad_request", "request body is empty; send a JSON object");
  try {
    return { raw, json: JSON.parse(raw) };
  } catch {
    throw new AppError("bad_request", "request body is not valid JSON");
  }
}

export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  return parseWith(schema, (await readJson(c)).json);
}

export const queryOf = <S extends z.ZodType>(c: Context, schema: S): z.output<S> => parseWith(schema, c.req.query());

/** A body that may be omitted entirely (e.g. resend without overrides). */
export async function optionalJson<S extends z.ZodType>(c: Context, schema: S, fallback: z.output<S>): Promise<z.output<S>> {
  const raw = await c.req.text();
  if (raw.trim() === "") return fallback;
  try {
    return parseWith(schema, JSON.parse(raw));
  } catch (error) {
    if (error instanceof SyntaxError) throw new AppError("bad_request", "request body is not valid JSON");
    throw error;
  }
}
