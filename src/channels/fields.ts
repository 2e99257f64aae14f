/**
 * Each provider kind's credential and settings fields, read off its own zod schemas, so a form
 * (the console's provider page) can ask for exactly what the API will validate. Top-level fields
 * only: nested objects (rate limits, breaker, prices) are named as such and set through the API.
 */
import { z } from "zod";
import { PROVIDERS } from "./registry";
import { PROVIDER_KINDS } from "./kinds";

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; required?: string[]; enum?: unknown[]; format?: string; pattern?: string; default?: unknown; minimum?: number; maximum?: number; maxLength?: number };

export type ConfigField = {
  name: string;
  type: string;
  required: boolean;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  /** A PEM key and the like: a textarea rather than one line. */
  multiline?: boolean;
};

function fieldsOf(schema: z.ZodType): ConfigField[] {
  // Input shape (what a caller sends); transforms and refinements cannot be shown and are skipped.
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, p]) => {
    const field: ConfigField = { name, type: p.type ?? (p.enum ? "string" : "object"), required: required.has(name) };
    for (const k of ["enum", "format", "pattern", "default", "minimum", "maximum"] as const) if (p[k] !== undefined) (field as Record<string, unknown>)[k] = p[k];
    if (p.pattern?.includes("PRIVATE KEY")) field.multiline = true;
    return field;
  });
}

/** Computed once per isolate: the schemas are static. */
let cached: { kind: string; channels: readonly string[]; credentials: ConfigField[]; settings: ConfigField[] }[] | undefined;

export function providerKindFields() {
  cached ??= PROVIDER_KINDS.map((kind) => ({ kind, channels: PROVIDERS[kind].channels, credentials: fieldsOf(PROVIDERS[kind].credentials), settings: fieldsOf(PROVIDERS[kind].settings) }));
  return cached;
}
