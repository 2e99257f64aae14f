/**
 * The in-app inbox's shapes: items as clients see them, and the JSON messages of the WebSocket
 * protocol (documented in docs/inbox.md). Every change to an inbox bumps its version; an
 * item carries the version of its last change, and a client resumes from the highest it has seen.
 */
import { z } from "zod";

export type InboxItem = {
  id: string;
  version: number;
  title: string | null;
  body: string;
  actionUrl: string | null;
  category: string;
  data: unknown;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
};
export type Counts = { unread: number; unseen: number; total: number };

export const MARK_ACTIONS = ["seen", "read", "unread", "archive", "unarchive", "click"] as const;
export type MarkAction = (typeof MARK_ACTIONS)[number];

export const ClientMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("mark"), ids: z.array(z.string().min(1)).min(1).max(100), action: z.enum(MARK_ACTIONS) }),
  z.object({ type: z.literal("markAllRead") }),
  z.object({ type: z.literal("sync"), cursor: z.number().int().min(0) }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

export type ServerMessage =
  | { type: "hello"; counts: Counts; cursor: number }
  | { type: "items"; items: InboxItem[]; counts: Counts; cursor: number }
  | { type: "error"; message: string };

export type NewItem = { id: string; title: string | null; body: string; actionUrl: string | null; category: string; data: unknown; createdAt: number };
