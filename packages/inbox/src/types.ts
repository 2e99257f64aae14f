/**
 * The inbox as the component sees it: the server's item and counts (src/inbox/protocol.ts in the
 * Herald repository is the other side; a test there checks the two agree), and the host-facing
 * shapes: the token provider, snooze choices and the connection's status.
 */
export type InboxAction = { label: string; url: string } | { label: string; event: string };

export interface InboxItem {
  id: string;
  version: number;
  title: string | null;
  body: string;
  actionUrl: string | null;
  category: string;
  data: unknown;
  actions: InboxAction[];
  avatarUrl: string | null;
  createdAt: string;
  seenAt: string | null;
  readAt: string | null;
  archivedAt: string | null;
  snoozedUntil: string | null;
  actedAction: number | null;
  actedAt: string | null;
}

export interface InboxCounts {
  unread: number;
  unseen: number;
  total: number;
}

/** Called for a fresh recipient token when there is none or the server refused the last one. */
export type TokenProvider = () => Promise<string | null | undefined> | string | null | undefined;

/** A snooze choice: its label and when it ends, from now. */
export type SnoozeOption = { label: string; until: (now: Date) => Date };

/**
 * `connecting` and `open` as usual; `reconnecting` after a dropped network (it retries by
 * itself); `signed-out` when the token is bad or expired and no new one came (it stops).
 */
export type InboxStatus = "idle" | "connecting" | "open" | "reconnecting" | "signed-out";

/** The built-in tabs, or a category named in the `categories` attribute. */
export type InboxTab = "all" | "unread" | "archived" | (string & {});
