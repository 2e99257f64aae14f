/**
 * The in-app inbox's shapes: items as clients see them, and the JSON messages of the WebSocket
 * protocol (documented in docs/inbox.md). Every change to an inbox bumps its version; an
 * item carries the version of its last change, and a client resumes from the highest it has seen.
 */
import { z } from "zod";
import type { ItemAction } from "./item-extras";

export type InboxItem = {
  id: string;
  version: number;
  title: string | null;
  body: string;
  actionUrl: string | null;
  category: string;
  data: unknown;
  /** At most two buttons: the first is the primary one. */
  actions: ItemAction[];
  avatarUrl: string | null;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
  /** Hidden until then; it comes back unread. */
  snoozedUntil: string | null;
  /** The index of the action the recipient took, once taken (an action is taken once). */
  actedAction: number | null;
  actedAt: string | null;
};
export type Counts = { unread: number; unseen: number; total: number };

export const MARK_ACTIONS = ["seen", "read", "unread", "archive", "unarchive", "click"] as const;
export type MarkAction = (typeof MARK_ACTIONS)[number];

/** Close codes the inbox uses on a WebSocket, so a client can tell them from a dropped network. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_ERASED = 4001;

const ids = z.array(z.string().min(1)).min(1).max(100);
/** A time in the next year; `null` wakes the items now. */
export const SnoozeUntil = z.iso
  .datetime({ offset: true })
  .refine((v) => Date.parse(v) > Date.now() && Date.parse(v) < Date.now() + 366 * 86_400_000, "must be a time in the future, within a year")
  .nullable();
export const ActionIndex = z.number().int().min(0).max(1);

export const ClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("mark"), ids, action: z.enum(MARK_ACTIONS) }),
  z.object({ type: z.literal("markAllRead") }),
  z.object({ type: z.literal("sync"), cursor: z.number().int().min(0) }),
  z.object({ type: z.literal("snooze"), ids, until: SnoozeUntil }),
  z.object({ type: z.literal("act"), id: z.string().min(1), action: ActionIndex }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export type ServerMessage =
  | { type: "hello"; counts: Counts; cursor: number }
  | { type: "items"; items: InboxItem[]; counts: Counts; cursor: number }
  /** After the catch-up (on connect, or in answer to `sync`): what comes next is live. */
  | { type: "synced"; cursor: number }
  | { type: "error"; message: string };

export type NewItem = {
  id: string;
  title: string | null;
  body: string;
  actionUrl: string | null;
  category: string;
  data: unknown;
  createdAt: number;
  actions?: ItemAction[];
  avatarUrl?: string | null;
};
