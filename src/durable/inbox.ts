/**
 * One Durable Object per recipient: their in-app inbox in the object's own SQLite, and their
 * connected devices as hibernatable WebSockets (idle sockets cost nothing; heartbeats are answered
 * by the runtime without waking the object). New items and every read/archive change are pushed
 * to all of the recipient's devices; reads and clicks flow back to the communication's status.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { database } from "../db/client";
import { applyProviderEvents } from "../pipeline/track";
import { uuidv7 } from "../lib/ids";
import { ClientMessage, CLOSE_ERASED, CLOSE_UNAUTHORIZED, type Counts, type InboxItem, type MarkAction, type NewItem, type ServerMessage } from "../inbox/protocol";
import { flushOutbox, keepAction, outboxDue } from "./inbox-outbox";
import { MARK_CHANGES, setUpSchema, toItem, type Row } from "./inbox-schema";

/** Not snoozed and not archived: what counts and the default lists show. */
const VISIBLE = "archived_at IS NULL AND snoozed_until IS NULL";

/** Items per catch-up message. */
const SYNC_PAGE = 500;

export type ListQuery = { before?: number; limit: number; unread?: boolean; archived?: boolean; snoozed?: boolean };

/** What a socket remembers across hibernation: when its token runs out (epoch ms). */
type Attachment = { expiresAt: number };

export type ActOutcome = { items: InboxItem[]; counts: Counts } | { error: "not_found" | "no_action" };

export class Inbox extends DurableObject<Env> {
  private sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    setUpSchema(this.sql);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private meta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }

  private nextVersion(): number {
    const v = Number(this.meta("version") ?? "0") + 1;
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", String(v));
    return v;
  }

  counts(): Counts {
    const row = this.sql
      .exec<{ unread: number; unseen: number; total: number }>(
        `SELECT count(*) FILTER (WHERE read_at IS NULL) AS unread, count(*) FILTER (WHERE seen_at IS NULL) AS unseen, count(*) AS total FROM item WHERE ${VISIBLE}`,
      )
      .one();
    return { unread: row.unread, unseen: row.unseen, total: row.total };
  }

  /**
   * Stores an item (idempotent on the communication id) and pushes it to every device. With the
   * tenant's retention, items older than it go at the same time: an inbox prunes itself as it is
   * used, with no separate pass over every recipient's object.
   */
  deliver(tenantId: string, item: NewItem, retentionDays?: number | null): { version: number; duplicate: boolean } {
    if (!this.meta("tenant")) this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('tenant', ?)", tenantId);
    if (retentionDays) this.sql.exec("DELETE FROM item WHERE created_at < ?", item.createdAt - retentionDays * 86_400_000);
    const existing = this.sql.exec<{ version: number }>("SELECT version FROM item WHERE id = ?", item.id).toArray()[0];
    if (existing) return { version: existing.version, duplicate: true };
    const version = this.nextVersion();
    this.sql.exec(
      "INSERT INTO item (id, version, title, body, action_url, category, data, actions, avatar_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      item.id,
      version,
      item.title,
      item.body,
      item.actionUrl,
      item.category,
      item.data === undefined || item.data === null ? null : JSON.stringify(item.data),
      item.actions?.length ? JSON.stringify(item.actions) : null,
      item.avatarUrl ?? null,
      item.createdAt,
    );
    this.broadcast({ type: "items", items: this.changedSince(version - 1), counts: this.counts(), cursor: version });
    return { version, duplicate: false };
  }

  list(q: ListQuery): { items: InboxItem[]; counts: Counts; nextBefore: number | null } {
    const where = ["1 = 1"];
    const binds: unknown[] = [];
    if (q.before !== undefined) (where.push("seq < ?"), binds.push(q.before));
    if (q.unread !== undefined) where.push(q.unread ? "read_at IS NULL" : "read_at IS NOT NULL");
    where.push(q.archived ? "archived_at IS NOT NULL" : "archived_at IS NULL");
    where.push(q.snoozed ? "snoozed_until IS NOT NULL" : "snoozed_until IS NULL");
    const rows = this.sql
      .exec<Row & { seq: number }>(`SELECT * FROM item WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT ?`, ...binds, q.limit + 1)
      .toArray();
    const page = rows.slice(0, q.limit);
    return { items: page.map(toItem), counts: this.counts(), nextBefore: rows.length > q.limit ? page.at(-1)!.seq : null };
  }

  private changedSince(cursor: number): InboxItem[] {
    return this.sql.exec<Row>("SELECT * FROM item WHERE version > ? ORDER BY version LIMIT ?", cursor, SYNC_PAGE).toArray().map(toItem);
  }

  /** Applies a read/seen/archive change; echoes it to every device; reports engagement. */
  async mark(ids: string[], action: MarkAction): Promise<{ items: InboxItem[]; counts: Counts }> {
    const now = Date.now();
    const { changed, items, counts } = this.change(ids, MARK_CHANGES[action].set, MARK_CHANGES[action].when, now);
    if (action === "read") await this.report(changed, "opened");
    // A click counts even on an item read before: it is engagement of its own.
    if (action === "click") await this.report(ids.filter((id) => this.sql.exec("SELECT 1 FROM item WHERE id = ?", id).toArray().length), "clicked");
    return { items, counts };
  }

  /**
   * Applies one change (`set`, with ?1 bound to `value`) to those of `ids` that match `when`; each
   * changed item gets a new version, and the changed items go to every device.
   */
  private change(ids: string[], set: string, when: string, value: number | null) {
    const changed: string[] = [];
    for (const id of ids) {
      const pending = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM item WHERE id = ? AND ${when}`, id).one().n;
      if (!pending) continue;
      this.sql.exec(`UPDATE item SET ${set}, version = ?2 WHERE id = ?3`, value, this.nextVersion(), id);
      changed.push(id);
    }
    const items = changed.length
      ? this.sql.exec<Row>(`SELECT * FROM item WHERE id IN (${changed.map(() => "?").join(",")}) ORDER BY version`, ...changed).toArray().map(toItem)
      : [];
    const counts = this.counts();
    if (items.length) this.broadcast({ type: "items", items, counts, cursor: items.at(-1)!.version });
    return { changed, items, counts };
  }

  /**
   * Hides items until `until` (epoch ms), when they come back unread, seen by nobody: the
   * object's alarm wakes them, so they reappear live on every device. `null` wakes them now.
   */
  async snooze(ids: string[], until: number | null): Promise<{ items: InboxItem[]; counts: Counts }> {
    const { items, counts } =
      until === null
        ? this.change(ids, "snoozed_until = ?1", "snoozed_until IS NOT NULL", null)
        : this.change(ids, "snoozed_until = ?1, read_at = NULL, seen_at = NULL", "archived_at IS NULL", until);
    await this.scheduleWake();
    return { items, counts };
  }

  /**
   * The alarm rings at the earliest snooze's end, outbox retry (src/durable/inbox-outbox.ts) or
   * connected socket's token expiry, whichever comes first (one alarm per object; re-armed after
   * each), so an idle device learns at once that it must sign in again.
   */
  private async scheduleWake() {
    const snooze = this.sql.exec<{ at: number | null }>("SELECT min(snoozed_until) AS at FROM item").one().at;
    const due = [snooze, outboxDue(this.sql), this.nextExpiry()].filter((t): t is number => t !== null);
    const next = due.length ? Math.min(...due) : null;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) !== next) await this.ctx.storage.setAlarm(next);
  }

  override async alarm() {
    const due = this.sql.exec<{ id: string }>("SELECT id FROM item WHERE snoozed_until <= ?", Date.now()).toArray().map((r) => r.id);
    for (let i = 0; i < due.length; i += 100) this.change(due.slice(i, i + 100), "snoozed_until = ?1", "snoozed_until IS NOT NULL", null);
    const tenantId = this.meta("tenant");
    if (tenantId) await flushOutbox(this.sql, this.env, tenantId, { dueBy: Date.now() });
    for (const ws of this.ctx.getWebSockets()) this.expired(ws);
    await this.scheduleWake();
  }

  /**
   * The recipient pressed one of an item's buttons. Taken once: it reads the item, counts as a
   * click, and an event button sends `inbox.action` to the tenant's webhooks. Pressing again,
   * or on another device, changes nothing. The webhook goes through the outbox, stored with the
   * action, so D1 refusing it now delays it instead of losing it (src/durable/inbox-outbox.ts).
   */
  async act(id: string, index: number): Promise<ActOutcome> {
    const row = this.sql.exec<Row>("SELECT * FROM item WHERE id = ?", id).toArray()[0];
    if (!row) return { error: "not_found" };
    const action = toItem(row).actions[index];
    if (!action) return { error: "no_action" };
    const now = Date.now();
    const set = `acted_action = ${index}, acted_at = ?1, seen_at = COALESCE(seen_at, ?1), read_at = COALESCE(read_at, ?1)`;
    const { changed, items, counts } = this.change([id], set, "acted_at IS NULL", now);
    if (changed.length === 0) return { items: [], counts };
    const tenantId = this.meta("tenant");
    const event = "event" in action && tenantId;
    // No await between the change above and this: the action and its outbox row commit together,
    // and the alarm is armed before any D1 call, so a failure anywhere below only delays the webhook.
    if (event) {
      keepAction(this.sql, { itemId: id, index, label: action.label, event: action.event, data: items[0]!.data, at: new Date(now) });
      await this.scheduleWake();
    }
    await this.report(changed, "clicked");
    if (event) {
      await flushOutbox(this.sql, this.env, tenantId, { itemId: id });
      await this.scheduleWake();
    }
    return { items, counts };
  }

  async markAllRead(): Promise<{ counts: Counts }> {
    const ids = this.sql.exec<{ id: string }>(`SELECT id FROM item WHERE read_at IS NULL AND ${VISIBLE}`).toArray().map((r) => r.id);
    for (let i = 0; i < ids.length; i += 100) await this.mark(ids.slice(i, i + 100), "read");
    return { counts: this.counts() };
  }

  /** Reads and clicks are the inbox's engagement events: they move the communications forward. */
  private async report(ids: string[], status: "opened" | "clicked") {
    const tenantId = this.meta("tenant");
    if (!tenantId || ids.length === 0) return;
    const now = new Date();
    await applyProviderEvents(
      database(this.env.DB),
      this.env.DB,
      this.env.EVENT_QUEUE,
      { tenantId, configId: null, provider: "inbox" },
      ids.map((id) => ({ communicationId: id, providerMessageId: null, status, name: status === "opened" ? "read" : "click", occurredAt: now, dedupeKey: `inbox:${uuidv7()}`, detail: {} })),
      now,
    );
  }

  /** Every item, archived or not, for a data-protection export. */
  exportAll(): InboxItem[] {
    return this.sql.exec<Row>("SELECT * FROM item ORDER BY seq").toArray().map(toItem);
  }

  /** Erases the inbox: every item, every setting, every connected device. */
  async erase(): Promise<{ items: number }> {
    const items = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM item").one().n;
    for (const ws of this.ctx.getWebSockets()) ws.close(CLOSE_ERASED, "inbox erased");
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the tables too; recreate them so the object stays usable.
    setUpSchema(this.sql);
    return { items };
  }

  /** WebSocket upgrade, already authenticated by the Worker: sends counts and what changed since `cursor`. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const params = new URL(request.url).searchParams;
    const cursor = Number(params.get("cursor") ?? "0") || 0;
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ expiresAt: Number(params.get("expires") ?? "0") || Number.MAX_SAFE_INTEGER } satisfies Attachment);
    // `hello` echoes the client's own cursor: the catch-up that follows is what moves it forward.
    this.send(server, { type: "hello", counts: this.counts(), cursor });
    this.sync(server, cursor);
    await this.scheduleWake();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer) {
    if (this.expired(ws)) return;
    let message: ClientMessage;
    try {
      message = ClientMessage.parse(JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw)));
    } catch {
      return this.send(ws, { type: "error", message: "unrecognised message; see the inbox protocol in docs/inbox.md" });
    }
    switch (message.type) {
      case "mark":
        await this.mark(message.ids, message.action);
        return;
      case "markAllRead":
        await this.markAllRead();
        return;
      case "sync":
        return this.sync(ws, message.cursor);
      case "snooze":
        await this.snooze(message.ids, message.until === null ? null : Date.parse(message.until));
        return;
      case "act": {
        const outcome = await this.act(message.id, message.action);
        if ("error" in outcome) this.send(ws, { type: "error", message: outcome.error === "not_found" ? "no such item" : "the item has no action at that index" });
        return;
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string) {
    // 1005 (no status) and 1006 (abnormal) describe a close; they may not be sent in one.
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /** Everything changed since `cursor`, in pages; each page's cursor is the last version it carries. */
  private sync(ws: WebSocket, cursor: number) {
    for (;;) {
      const items = this.changedSince(cursor);
      if (items.length) {
        cursor = items.at(-1)!.version;
        this.send(ws, { type: "items", items, counts: this.counts(), cursor });
      }
      if (items.length < SYNC_PAGE) return this.send(ws, { type: "synced", cursor });
    }
  }

  private send(ws: WebSocket, message: ServerMessage) {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // A socket closing under us: the client resumes from its cursor when it reconnects.
    }
  }

  private broadcast(message: ServerMessage) {
    for (const ws of this.ctx.getWebSockets()) if (!this.expired(ws)) this.send(ws, message);
  }

  private expiresAt = (ws: WebSocket) => ((ws.deserializeAttachment() as Attachment | null) ?? { expiresAt: Number.MAX_SAFE_INTEGER }).expiresAt;

  /** When the next connected socket's token runs out (sockets already past theirs are closing). */
  private nextExpiry(): number | null {
    const now = Date.now();
    const ends = this.ctx.getWebSockets().map(this.expiresAt).filter((t) => t > now && t < Number.MAX_SAFE_INTEGER);
    return ends.length ? Math.min(...ends) : null;
  }

  /**
   * A socket outlives its token by no more than the alarm's lateness: at expiry (or when it is
   * used after, whichever comes first) it is closed with 4401, which a client reads as "get a new
   * token", not as a dropped network.
   */
  private expired(ws: WebSocket): boolean {
    if (Date.now() < this.expiresAt(ws)) return false;
    try {
      ws.close(CLOSE_UNAUTHORIZED, "inbox token expired");
    } catch {
      // Already closing.
    }
    return true;
  }
}

/** The inbox of one recipient of one tenant. */
export const inboxStub = (ns: DurableObjectNamespace<Inbox>, tenantId: string, recipientType: string, recipientId: string) =>
  ns.get(ns.idFromName(`${tenantId}\u0000${recipientType}\u0000${recipientId}`));
