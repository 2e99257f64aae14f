/**
 * The inbox items' buttons, snooze, avatar and the schema step that adds them to existing
 * inboxes; and how a bad or expired token ends a socket (4401, never a bare 1006).
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { inboxStub } from "../src/durable/inbox";
import { mintInboxToken } from "../src/inbox/token";
import type { InboxItem } from "../src/inbox/protocol";
import type { InboxItem as ComponentItem } from "../packages/inbox/src/types";
import { call, captureEvents, captureQueue, createTenant, mockProviders, runDelivery, type RecordedRequest } from "./helpers";
import { connect, inboxApi } from "./inbox-device";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;
let events: ReturnType<typeof captureEvents>;
const HOOK = "https://hooks.acme.test";
const ACTIONS = [
  { label: "Approve", event: "expense.approve" },
  { label: "Open", url: "https://app.acme.test/expenses/7" },
];

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  events = captureEvents();
  ({ key, tenantId } = await createTenant());
});

async function tokenFor(recipientId: string) {
  const res = await call("POST", "/api/inbox/tokens", { key, body: { recipientType: "user", recipientId } });
  return res.json.token as string;
}

async function notify(recipientId: string, subject: string, metadata: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/communications/send", {
    key,
    body: { channel: "in_app", type: "expense", recipientType: "user", recipientId, subject, content: `${subject} body`, entityType: "expense", entityId: "7", metadata },
  });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}

const sendWith = (inbox: unknown) =>
  call("POST", "/api/communications/send", { key, body: { channel: "in_app", recipientType: "user", recipientId: "x", content: "x", metadata: { inbox } } });

// The component (packages/inbox) declares the item on its own; it must read what the server sends.
type Agrees<T extends ComponentItem> = T;
export type ServerItemFitsComponent = Agrees<InboxItem>;

describe("item buttons and avatar", () => {
  it("carries up to two buttons and an avatar from metadata.inbox", async () => {
    const id = await notify("a1", "Expense to approve", { inbox: { actions: ACTIONS, avatarUrl: "https://cdn.acme.test/ada.png" }, data: { amount: 42 } });
    const { items } = (await inboxApi(await tokenFor("a1"), "GET", "/items")).json;
    expect(items).toEqual([expect.objectContaining({ id, actions: ACTIONS, avatarUrl: "https://cdn.acme.test/ada.png", category: "expense", actedAction: null, snoozedUntil: null })]);
  });

  it("refuses bad buttons at the API, naming the field", async () => {
    const three = await sendWith({ actions: [...ACTIONS, ACTIONS[0]] });
    expect(three.status).toBe(422);
    expect(three.json.errors.map((e: { field: string }) => e.field)).toEqual(["metadata.inbox.actions"]);
    const neither = await sendWith({ actions: [{ label: "Go" }] });
    expect(neither.json.errors[0].field).toMatch(/^metadata\.inbox\.actions\.0/);
    const badUrl = await sendWith({ actions: [{ label: "Go", url: "javascript:alert(1)" }], avatarUrl: "ftp://x" });
    expect(badUrl.json.errors.map((e: { field: string }) => e.field).sort()).toEqual(expect.arrayContaining(["metadata.inbox.avatarUrl"]));
    expect((await sendWith({ colour: "red" })).json.errors[0].field).toBe("metadata.inbox");
  });

  it("sends an event button back to the tenant as a signed inbox.action webhook, once", async () => {
    const ep = (await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald`, eventTypes: ["inbox.action"] } })).json as { id: string; secret: string };
    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });
    const id = await notify("a2", "Expense to approve", { inbox: { actions: ACTIONS }, data: { amount: 42 } });
    const token = await tokenFor("a2");
    const other = await connect(token);
    await other.next((m) => m.type === "hello");
    const device = await connect(token);
    await device.next((m) => m.type === "hello");

    device.send({ type: "act", id, action: 0 });
    const echoed = await other.next((m) => m.type === "items" && m.items[0]?.actedAction === 0);
    expect(echoed.items[0]).toMatchObject({ id, actedAction: 0, readAt: expect.any(String) });
    expect(echoed.counts.unread).toBe(0);
    expect((await call("GET", `/api/communications/${id}`, { key })).json.status).toBe("clicked");

    // Pressed again, here or on the other device: nothing new.
    const again = await inboxApi(token, "POST", "/items/act", { id, action: 1 });
    expect(again.json.items).toEqual([]);

    for (let round = 0; round < 5 && events.sent.length; round++) await runDelivery(events.drain(), { queue: "herald-events" });
    expect(received).toHaveLength(1);
    const payload = new Webhook(ep.secret).verify(received[0]!.body, Object.fromEntries(received[0]!.headers)) as { type: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({
      type: "inbox.action",
      data: { communicationId: id, event: "expense.approve", label: "Approve", action: 0, recipientType: "user", recipientId: "a2", entityType: "expense", entityId: "7", data: { amount: 42 } },
    });
    expect(Object.fromEntries(received[0]!.headers)["webhook-id"]).toBe(`evt_inbox_${id}_0`);
    device.ws.close();
    other.ws.close();
  });

  it("records a URL button as a click without a webhook; refuses a missing button or item", async () => {
    await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald`, eventTypes: ["*"] } });
    const id = await notify("a3", "Read the report", { inbox: { actions: [ACTIONS[1]] } });
    const token = await tokenFor("a3");
    events.drain();
    const res = await inboxApi(token, "POST", "/items/act", { id, action: 0 });
    expect(res.json.items[0]).toMatchObject({ actedAction: 0 });
    // Only an event button writes a webhook delivery of its own (the click is a status event).
    expect(events.sent.filter((e) => e.kind === "delivery")).toEqual([]);
    expect((await call("GET", `/api/communications/${id}`, { key })).json.status).toBe("clicked");
    const deliveries = (await call("GET", "/api/webhooks", { key })).json;
    const log = (await call("GET", `/api/webhooks/${(deliveries.results ?? deliveries)[0].id}/deliveries`, { key })).json.results;
    expect(log.map((d: { eventType: string }) => d.eventType)).not.toContain("inbox.action");

    const missing = await inboxApi(token, "POST", "/items/act", { id, action: 1 });
    expect([missing.status, missing.json.errors?.[0]?.field]).toEqual([422, "action"]);
    expect((await inboxApi(token, "POST", "/items/act", { id: "nope", action: 0 })).status).toBe(404);
    expect((await inboxApi(token, "POST", "/items/act", { id, action: 2 })).status).toBe(422);
  });
});

describe("the inbox.action webhook when D1 refuses it", () => {
  /** The delivery-log rows of `inbox.action` for this item, read straight from D1. */
  const actionRows = async (id: string) =>
    (await env.DB.prepare("SELECT id, event_id FROM webhook_delivery WHERE tenant_id = ? AND event_type = 'inbox.action' AND event_id LIKE ?").bind(tenantId, `evt_inbox_${id}_%`).all<{ id: string; event_id: string }>()).results;
  const outbox = (stub: ReturnType<typeof inboxStub>) =>
    runInDurableObject(stub, (_, state) => state.storage.sql.exec<{ item_id: string; attempts: number }>("SELECT item_id, attempts FROM action_outbox").toArray());
  /** The retry's back-off has passed: make every outbox row due, as the clock would. */
  const letBackoffPass = (stub: ReturnType<typeof inboxStub>) =>
    runInDurableObject(stub, (_, state) => void state.storage.sql.exec("UPDATE action_outbox SET due_at = 0"));

  async function pressedWith(fault: () => void) {
    const ep = (await call("POST", "/api/webhooks", { key, body: { url: `${HOOK}/herald`, eventTypes: ["inbox.action"] } })).json as { id: string; secret: string };
    const received: RecordedRequest[] = [];
    mockProviders({ [HOOK]: (req) => (received.push(req), new Response("ok")) });
    const id = await notify("f1", "Expense to approve", { inbox: { actions: ACTIONS }, data: { amount: 42 } });
    const token = await tokenFor("f1");
    events.drain();
    fault();
    const res = await inboxApi(token, "POST", "/items/act", { id, action: 0 });
    // The press stands at once, whatever D1 said to its webhook.
    expect(res.status, res.text).toBe(200);
    expect(res.json.items[0]).toMatchObject({ id, actedAction: 0 });
    return { ep, received, id, token, stub: inboxStub(env.INBOX, tenantId, "user", "f1") };
  }

  async function retriedUntilSent(h: Awaited<ReturnType<typeof pressedWith>>) {
    expect(await outbox(h.stub)).toEqual([{ item_id: h.id, attempts: 1 }]);
    // Its retry is on the object's alarm.
    expect(await runInDurableObject(h.stub, (_, state) => state.storage.getAlarm())).not.toBeNull();
    await letBackoffPass(h.stub);
    expect(await runDurableObjectAlarm(h.stub)).toBe(true);
    expect(await outbox(h.stub)).toEqual([]);
    // Once more, as a second alarm or a late retry would: nothing new.
    await runInDurableObject(h.stub, (instance) => instance.alarm());
    expect((await inboxApi(h.token, "POST", "/items/act", { id: h.id, action: 1 })).json.items).toEqual([]);
    for (let round = 0; round < 5 && events.sent.length; round++) await runDelivery(events.drain(), { queue: "herald-events" });
    expect(await actionRows(h.id)).toEqual([{ id: `evt_inbox_${h.id}_0_${h.ep.id}`, event_id: `evt_inbox_${h.id}_0` }]);
    expect(h.received).toHaveLength(1);
    const payload = new Webhook(h.ep.secret).verify(h.received[0]!.body, Object.fromEntries(h.received[0]!.headers)) as { type: string; data: Record<string, unknown> };
    expect(payload).toMatchObject({ type: "inbox.action", data: { communicationId: h.id, event: "expense.approve", action: 0, data: { amount: 42 } } });
    const { items } = (await inboxApi(h.token, "GET", "/items")).json;
    expect(items).toEqual([expect.objectContaining({ id: h.id, actedAction: 0 })]);
  }

  it("keeps the action when the delivery row's write fails, and the alarm writes it once", async () => {
    const prepare = env.DB.prepare.bind(env.DB);
    let refused = 0;
    const h = await pressedWith(() =>
      vi.spyOn(env.DB, "prepare").mockImplementation((query: string) => {
        if (/^insert into "webhook_delivery"/i.test(query) && refused++ === 0) throw new Error("D1_ERROR: database is unavailable");
        return prepare(query);
      }),
    );
    expect(refused).toBeGreaterThan(0);
    expect(await actionRows(h.id)).toEqual([]);
    expect(events.sent.filter((e) => e.kind === "delivery")).toEqual([]);
    await retriedUntilSent(h);
  });

  it("does not double the webhook when the first try's row landed but its enqueue failed", async () => {
    const h = await pressedWith(() => {
      // Only the deliveries' send fails (the click's own status event goes through).
      const spy = vi.spyOn(env.EVENT_QUEUE, "sendBatch");
      const captured = spy.getMockImplementation()!;
      let refused = 0;
      spy.mockImplementation(async (messages) => {
        if ([...messages].some((m) => m.body.kind === "delivery") && refused++ === 0) throw new Error("queue unavailable");
        return captured(messages);
      });
    });
    // The row is in D1 already; the retry must find it, not add a second.
    expect(await actionRows(h.id)).toHaveLength(1);
    await retriedUntilSent(h);
  });
});

describe("snooze", () => {
  it("hides an item until its time, then brings it back unread on every device", async () => {
    const id = await notify("s1", "Call back Ben");
    const keep = await notify("s1", "Stays");
    const token = await tokenFor("s1");
    await inboxApi(token, "POST", "/items/mark", { ids: [id], action: "read" });
    const device = await connect(token);
    await device.next((m) => m.type === "hello");

    const until = new Date(Date.now() + 1500).toISOString();
    const snoozed = await inboxApi(token, "POST", "/items/snooze", { ids: [id], until });
    expect(snoozed.json.items[0]).toMatchObject({ id, snoozedUntil: until, readAt: null });
    expect(snoozed.json.counts).toEqual({ unread: 1, unseen: 1, total: 1 });
    expect((await inboxApi(token, "GET", "/items")).json.items.map((i: { id: string }) => i.id)).toEqual([keep]);
    expect((await inboxApi(token, "GET", "/items?snoozed=true")).json.items.map((i: { id: string }) => i.id)).toEqual([id]);

    // The object's alarm wakes it: pushed to the device, unread, counted again.
    const after = snoozed.json.items[0].version;
    const woke = await device.next((m) => m.type === "items" && m.items.some((i: { id: string; version: number }) => i.id === id && i.version > after), 500);
    expect(woke.counts).toEqual({ unread: 2, unseen: 2, total: 2 });
    expect(woke.items.find((i: { id: string }) => i.id === id)).toMatchObject({ readAt: null, seenAt: null });
    device.ws.close();
  }, 30_000);

  it("wakes items at once with until: null, and refuses a time in the past", async () => {
    const id = await notify("s2", "Later");
    const token = await tokenFor("s2");
    await inboxApi(token, "POST", "/items/snooze", { ids: [id], until: new Date(Date.now() + 86_400_000).toISOString() });
    expect((await inboxApi(token, "GET", "/counts")).json.total).toBe(0);
    const woken = await inboxApi(token, "POST", "/items/snooze", { ids: [id], until: null });
    expect(woken.json.counts.total).toBe(1);
    expect(await runInDurableObject(inboxStub(env.INBOX, tenantId, "user", "s2"), (_, state) => state.storage.getAlarm())).toBeNull();
    const past = await inboxApi(token, "POST", "/items/snooze", { ids: [id], until: new Date(Date.now() - 1000).toISOString() });
    expect([past.status, past.json.errors[0].field]).toEqual([422, "until"]);
  });
});

describe("the schema step for inboxes created before buttons and snooze", () => {
  it("adds the new columns to an existing inbox, keeping its items", async () => {
    const stub = inboxStub(env.INBOX, tenantId, "user", "old");
    await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      // The first version's table, as an inbox deployed before this change has it.
      sql.exec("DROP TABLE item");
      sql.exec("DELETE FROM meta WHERE key = 'schema'");
      sql.exec(`CREATE TABLE item (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL,
        title TEXT, body TEXT NOT NULL, action_url TEXT, category TEXT NOT NULL, data TEXT,
        created_at INTEGER NOT NULL, seen_at INTEGER, read_at INTEGER, archived_at INTEGER)`);
      sql.exec("INSERT INTO item (id, version, body, category, created_at) VALUES ('legacy', 1, 'from before', 't', ?)", Date.now());
    });
    await evictDurableObject(stub);
    const { items } = await stub.list({ limit: 10 });
    expect(items).toEqual([expect.objectContaining({ id: "legacy", actions: [], avatarUrl: null, snoozedUntil: null, actedAction: null })]);
    await stub.snooze(["legacy"], Date.now() + 60_000);
    const { items: snoozed } = await stub.list({ limit: 10, snoozed: true });
    expect(snoozed).toEqual([expect.objectContaining({ id: "legacy" })]);
  });
});

describe("the component's files", () => {
  it("serves <herald-inbox> as a module any origin may load, and a page trying it", async () => {
    const js = await exports.default.fetch("https://herald.test/inbox/herald-inbox.js");
    expect([js.status, js.headers.get("content-type"), js.headers.get("access-control-allow-origin")]).toEqual([200, "text/javascript; charset=utf-8", "*"]);
    expect(await js.text()).toContain('customElements.define("herald-inbox"');
    const page = await exports.default.fetch("https://herald.test/inbox/component");
    expect(await page.text()).toContain('<script type="module" src="./herald-inbox.js">');
  });
});

describe("the end of a catch-up", () => {
  it("is marked by synced, on connecting and after a sync, so a client can tell live items from old ones", async () => {
    const id = await notify("c1", "Before connecting");
    const device = await connect(await tokenFor("c1"));
    await device.next((m) => m.type === "hello");
    const caughtUp = await device.next((m) => m.type === "items");
    expect(caughtUp.items.map((i: { id: string }) => i.id)).toEqual([id]);
    expect(await device.next((m) => m.type === "synced")).toEqual({ type: "synced", cursor: caughtUp.cursor });
    device.send({ type: "sync", cursor: caughtUp.cursor });
    expect(await device.next((m) => m.type === "synced")).toEqual({ type: "synced", cursor: caughtUp.cursor });
    expect(device.received.filter((m) => m.type === "items")).toEqual([]);
    device.ws.close();
  });
});

describe("tokens on the socket", () => {
  const expiredToken = async (recipientId: string) =>
    (await mintInboxToken(env.ENCRYPTION_KEY!, { tenantId, recipientType: "user", recipientId }, 60, new Date(Date.now() - 3600_000))).token;

  it("closes with 4401 for an expired, forged or missing token, so a client can tell it from a network drop", async () => {
    for (const token of [await expiredToken("t1"), "forged.token.here", ""]) {
      const device = await connect(token);
      expect(await device.closed).toMatchObject({ code: 4401 });
    }
    // REST keeps answering 401 as before.
    expect((await inboxApi(await expiredToken("t1"), "GET", "/counts")).status).toBe(401);
  });

  it("closes a live socket with 4401 once its token runs out", async () => {
    // A token with about a second left (jose's times are whole seconds).
    const { token, expiresAt } = await mintInboxToken(env.ENCRYPTION_KEY!, { tenantId, recipientType: "user", recipientId: "t2" }, 60, new Date(Date.now() - 58_500));
    const device = await connect(token);
    await device.next((m) => m.type === "hello");
    let outcome: { code: number } | undefined;
    void device.closed.then((c) => (outcome = c));
    // Used again after it ran out, the socket is closed instead of answered.
    await vi.waitFor(
      () => {
        if (!outcome) device.send({ type: "sync", cursor: 0 });
        expect(outcome).toMatchObject({ code: 4401 });
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });

  it("closes an idle socket with 4401 when its token runs out, without being used again", async () => {
    const { token, expiresAt } = await mintInboxToken(env.ENCRYPTION_KEY!, { tenantId, recipientType: "user", recipientId: "t3" }, 60, new Date(Date.now() - 58_500));
    const device = await connect(token);
    await device.next((m) => m.type === "hello");
    // Nothing is sent on it: the inbox's alarm at the token's expiry closes it.
    expect(await device.closed).toMatchObject({ code: 4401 });
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(expiresAt.getTime() / 1000) * 1000);
    // A device with a good token on the same inbox stays open and live.
    const other = await connect(await tokenFor("t3"));
    await other.next((m) => m.type === "hello");
    const id = await notify("t3", "Still here");
    expect((await other.next((m) => m.type === "items")).items.map((i: { id: string }) => i.id)).toContain(id);
    other.ws.close();
  });
});
