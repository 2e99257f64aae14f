/** Vocabularies shared by every resource (the server's src/domain.ts, as a client sees them). */
export type Channel = "email" | "sms" | "whatsapp" | "messenger" | "push" | "in_app" | "slack" | "teams" | "discord" | "telegram";
/** `sending` is internal to the server: a claimed message is still `queued` to clients. */
export type CommunicationStatus = "scheduled" | "queued" | "sent" | "delivered" | "opened" | "clicked" | "bounced" | "failed" | "suppressed" | "cancelled";
export type Priority = "low" | "normal" | "high" | "urgent";
/** ISO 8601 date-time, as every date comes back. */
export type Timestamp = string;
export type Json = Record<string, unknown>;
/** `{ results }` lists that are not paged (a tenant's providers, webhooks, audiences…). */
export type List<T> = { results: T[] };
/** `page`/`size` lists; `count` is the total where the API counts it. */
export type Page<T> = { results: T[]; count: number; page: number; size: number };
/** Cursor lists: pass `nextCursor` back as `cursor` for the next page; null on the last. */
export type CursorPage<T> = { results: T[]; nextCursor: string | null };
/** A condition on data (`field` a dotted path), as trigger rules and workflow branches take them. */
export type Condition = { field: string; op: "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists" | "not_exists"; value?: unknown };
/** Someone an event or a workflow run concerns: by type and id, and/or by contacts. */
export type EventRecipient = {
  type?: string;
  id?: string;
  name?: string;
  email?: string;
  phone?: string;
  whatsapp?: string;
  messengerId?: string;
  locale?: string;
  roles?: string[];
};
