/**
 * The inbox object's own SQLite: its tables, the steps that bring an older object's tables up to
 * date, and the row-to-item mapping. An object keeps its storage across deploys, so a new column
 * is an ALTER TABLE step guarded by the schema version kept in `meta`, run once per object when
 * it first wakes after the deploy (and again after an erase, which drops everything). The SQL of
 * the marks lives here too, beside the columns it names.
 */
import type { InboxItem, MarkAction } from "../inbox/protocol";
import type { ItemAction } from "../inbox/item-extras";

export type Row = {
  id: string;
  version: number;
  title: string | null;
  body: string;
  action_url: string | null;
  category: string;
  data: string | null;
  actions: string | null;
  avatar_url: string | null;
  created_at: number;
  seen_at: number | null;
  read_at: number | null;
  archived_at: number | null;
  snoozed_until: number | null;
  acted_action: number | null;
  acted_at: number | null;
};

export type OutboxRow = { item_id: string; action: number; label: string; event: string; data: string | null; acted_at: number; attempts: number; due_at: number };

/** Each step takes the schema from its index + 1 to the next version. */
const STEPS: string[][] = [
  [
    "ALTER TABLE item ADD COLUMN actions TEXT",
    "ALTER TABLE item ADD COLUMN avatar_url TEXT",
    "ALTER TABLE item ADD COLUMN snoozed_until INTEGER",
    "ALTER TABLE item ADD COLUMN acted_action INTEGER",
    "ALTER TABLE item ADD COLUMN acted_at INTEGER",
  ],
];
export const SCHEMA_VERSION = STEPS.length + 1;

/** Creates the first version's tables if missing, then runs the steps this object has not had. */
export function setUpSchema(sql: SqlStorage) {
  sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  sql.exec(`CREATE TABLE IF NOT EXISTS item (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,
    title TEXT, body TEXT NOT NULL, action_url TEXT, category TEXT NOT NULL, data TEXT,
    created_at INTEGER NOT NULL, seen_at INTEGER, read_at INTEGER, archived_at INTEGER)`);
  sql.exec("CREATE INDEX IF NOT EXISTS item_version ON item (version)");
  // A new table needs no step: CREATE IF NOT EXISTS is safe on every wake. One row per taken event
  // button whose inbox.action rows D1 has not accepted yet; `due_at` is its next try (epoch ms).
  sql.exec(`CREATE TABLE IF NOT EXISTS action_outbox (
    item_id TEXT PRIMARY KEY, action INTEGER NOT NULL, label TEXT NOT NULL, event TEXT NOT NULL, data TEXT,
    acted_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL)`);
  const at = Number(sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema'").toArray()[0]?.value ?? "1");
  for (let v = at; v < SCHEMA_VERSION; v++) for (const statement of STEPS[v - 1]!) sql.exec(statement);
  if (at < SCHEMA_VERSION) sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", String(SCHEMA_VERSION));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const toItem = (r: Row): InboxItem => ({
  id: r.id,
  version: r.version,
  title: r.title,
  body: r.body,
  actionUrl: r.action_url,
  category: r.category,
  data: r.data === null ? null : JSON.parse(r.data),
  actions: r.actions === null ? [] : (JSON.parse(r.actions) as ItemAction[]),
  avatarUrl: r.avatar_url,
  createdAt: new Date(r.created_at).toISOString(),
  seenAt: iso(r.seen_at),
  readAt: iso(r.read_at),
  archivedAt: iso(r.archived_at),
  snoozedUntil: iso(r.snoozed_until),
  actedAction: r.acted_action,
  actedAt: iso(r.acted_at),
});

/**
 * What each mark sets (?1 is the time) and on which items it is a change. Each change, and only a
 * real change, gets a new version: marking a read item read again is a no-op that neither
 * re-broadcasts nor grows the timeline.
 */
export const MARK_CHANGES: Record<MarkAction, { set: string; when: string }> = {
  seen: { set: "seen_at = ?1", when: "seen_at IS NULL" },
  read: { set: "seen_at = COALESCE(seen_at, ?1), read_at = ?1", when: "read_at IS NULL" },
  click: { set: "seen_at = COALESCE(seen_at, ?1), read_at = ?1", when: "read_at IS NULL" },
  unread: { set: "read_at = NULL", when: "read_at IS NOT NULL" },
  archive: { set: "archived_at = ?1", when: "archived_at IS NULL" },
  unarchive: { set: "archived_at = NULL", when: "archived_at IS NOT NULL" },
};
