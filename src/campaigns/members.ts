/**
 * Audience members at the edge: the JSON shape of one member, CSV rows turned into the same
 * shape, and the dedupe both go through. Contacts are normalised here (lower-case email, E.164
 * phone) so a bad address is a 422 naming the member and the field, never a failed send later.
 */
import { z } from "zod";
import { AppError, type FieldError } from "../lib/errors";
import { normaliseContact } from "../pipeline/send-request";
import type { MemberKey } from "../db/audiences";
import { parseCsv } from "./csv";

/** Members per add or remove call, and rows per CSV import. */
export const MAX_MEMBERS = 10_000;

const slug = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug (a-z, 0-9, _ . -), at most 64 characters");

export const MemberInput = z
  .object({
    recipientType: slug.default("customer"),
    recipientId: z.string().min(1).max(255),
    name: z.string().max(255).optional(),
    email: z
      .string()
      .max(320)
      .transform((v, ctx) => contact("email", v, ctx))
      .optional(),
    phone: z
      .string()
      .max(32)
      .transform((v, ctx) => contact("sms", v, ctx))
      .optional(),
    variables: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type MemberInput = z.infer<typeof MemberInput>;

function contact(channel: "email" | "sms", raw: string, ctx: z.RefinementCtx) {
  const r = normaliseContact(channel, raw);
  if (!r.ok) ctx.addIssue({ code: "custom", message: r.reason });
  return r.ok ? r.value : raw;
}

export const MemberKeyInput = z.object({ recipientType: slug.default("customer"), recipientId: z.string().min(1).max(255) }).strict();

export const AddMembers = z.object({ members: z.array(z.unknown()).min(1).max(MAX_MEMBERS) }).strict();
export const RemoveMembers = z.object({ members: z.array(MemberKeyInput).min(1).max(MAX_MEMBERS) }).strict();

const keyOf = (m: MemberKey) => `${m.recipientType}\u0000${m.recipientId}`;

/** Validates every member, naming each bad one (`members.3.email`); throws 422 listing them. */
export function parseMembers(items: unknown[], field: (index: number) => string): MemberInput[] {
  const members: MemberInput[] = [];
  const errors: FieldError[] = [];
  items.forEach((item, i) => {
    const r = MemberInput.safeParse(item);
    if (r.success) members.push(r.data);
    else for (const issue of r.error.issues) errors.push({ field: `${field(i)}${issue.path.length ? "." + issue.path.join(".") : ""}`, message: issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message });
  });
  if (errors.length) {
    // A 10,000-member call could name thousands; the first hundred say enough.
    throw new AppError("validation_failed", `${errors.length} invalid member field(s); first: ${errors[0]!.field}`, errors.slice(0, 100));
  }
  return members;
}

/**
 * One entry per recipient; a later occurrence's fields override an earlier one's, field by field,
 * the same rule as an import over existing members.
 */
export function dedupe<T extends MemberKey>(items: T[]): { unique: T[]; duplicates: number } {
  const byKey = new Map<string, T>();
  for (const m of items) {
    const k = keyOf(m);
    const before = byKey.get(k);
    byKey.set(k, before ? { ...before, ...Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) } : m);
  }
  return { unique: [...byKey.values()], duplicates: items.length - byKey.size };
}

const KNOWN = new Set(["recipientType", "recipientId", "name", "email", "phone"]);

/**
 * A CSV import: a header row naming `recipientId` (required) and any of recipientType, name,
 * email, phone; every other column becomes a template variable. Errors name the row as a
 * spreadsheet shows it (the header is row 1).
 */
export function membersFromCsv(text: string): MemberInput[] {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw new AppError("validation_failed", `CSV: ${parsed.error}`, [{ field: `row ${parsed.row}`, message: parsed.error }]);
  const [header, ...rows] = parsed.rows;
  if (!header || !header.includes("recipientId")) {
    throw new AppError("validation_failed", "CSV: the header row must name a recipientId column", [{ field: "row 1", message: "the header row must name a recipientId column" }]);
  }
  if (rows.length === 0) throw new AppError("validation_failed", "CSV: no member rows after the header", [{ field: "row 2", message: "no member rows" }]);
  if (rows.length > MAX_MEMBERS) throw new AppError("validation_failed", `CSV: at most ${MAX_MEMBERS} rows per import`, [{ field: "(body)", message: `${rows.length} rows; split the file` }]);
  const objects = rows.map((cells) => {
    const member: Record<string, unknown> = {};
    const variables: Record<string, string> = {};
    header.forEach((column, i) => {
      const value = cells[i]?.trim() ?? "";
      if (value === "") return;
      if (KNOWN.has(column)) member[column] = value;
      else variables[column] = value;
    });
    if (Object.keys(variables).length) member.variables = variables;
    return member;
  });
  return parseMembers(objects, (i) => `row ${i + 2}`);
}
