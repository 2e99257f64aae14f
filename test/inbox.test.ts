import { evictDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { inboxStub } from "../src/durable/inbox";
import { mintInboxToken } from "../src/inbox/token";
import { call, captureQueue, createTenant, runDelivery } from "./helpers";
import { connect, inboxApi } from "./inbox-device";

let key: string;
let tenantId: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key, tenantId } = await createTenant());
});

async function tokenFor(recipientId: string, k = key) {
  const res = await call("POST", "/api/inbox/tokens", { key: k, body: { recipientType: "user", recipientId } });
  expect(res.status, res.text).toBe(201);
  return res.json.token as string;
}

async function notify(recipientId: string, subject: string, extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/api/communications/send", {
    key,
    body: { channel: "in_app", type: "comment", recipientType: "user", recipientId, subject, content: `${subject} body`, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  await runDelivery(queue.drain().map((m) => m.body));
  return res.json.id as string;
}


describe("in-app inbox", () => {
  it("needs no provider: stored in the recipient's inbox is delivered", async () => {
    const id = await notify("u1", "New comment", { metadata: { actionUrl: "https://app.acme.test/c/1", data: { commentId: 1 } } });
    const d = await call("GET", `/api/communications/${id}`, { key });
    expect(d.json).toMatchObject({ status: "delivered", provider: "inbox", recipientContact: "user/u1", channel: "in_app" });
    const list = await inboxApi(await tokenFor("u1"), "GET", "/items");
    expect(list.json.items).toEqual([
      expect.objectContaining({ id, title: "New comment", body: "New comment body", actionUrl: "https://app.acme.test/c/1", category: "comment", data: { commentId: 1 }, readAt: null }),
    ]);
    expect(list.json.counts).toEqual({ unread: 1, unseen: 1, total: 1 });
  });

  it("refuses in_app sends without a recipient id", async () => {
    const res = await call("POST", "/api/communications/send", { key, body: { channel: "in_app", content: "x", recipientContact: "someone" } });
    expect(res.status).toBe(422);
    expect(res.json.errors[0].field).toBe("recipientContact");
  });

  it("pushes new items to connected devices and echoes changes to all of them", async () => {
    const token = await tokenFor("u2");
    const phone = await connect(token);
    const laptop = await connect(token);
    expect(await phone.next((m) => m.type === "hello")).toMatchObject({ counts: { unread: 0 } });
    await laptop.next((m) => m.type === "hello");

    const id = await notify("u2", "Invoice paid");
    const pushed = await phone.next((m) => m.type === "items");
    expect(pushed).toMatchObject({ items: [{ id, title: "Invoice paid" }], counts: { unread: 1 } });
    await laptop.next((m) => m.type === "items");

    phone.send({ type: "mark", ids: [id], action: "read" });
    const echoed = await laptop.next((m) => m.type === "items" && m.items[0]?.readAt);
    expect(echoed.counts.unread).toBe(0);
    const comm = await call("GET", `/api/communications/${id}`, { key });
    expect(comm.json.status).toBe("opened");
    phone.ws.close();
    laptop.ws.close();
  });

  it("resumes from the cursor after a disconnect: nothing missed, nothing repeated", async () => {
    const token = await tokenFor("u3");
    const first = await notify("u3", "one");
    const device = await connect(token);
    const hello = await device.next((m) => m.type === "hello");
    const initial = await device.next((m) => m.type === "items");
    expect(initial.items.map((i: { id: string }) => i.id)).toEqual([first]);
    device.ws.close();

    const second = await notify("u3", "two");
    const third = await notify("u3", "three");
    const again = await connect(token, initial.cursor);
    await again.next((m) => m.type === "hello");
    const missed = await again.next((m) => m.type === "items");
    expect(missed.items.map((i: { id: string }) => i.id)).toEqual([second, third]);
    expect(hello.cursor).toBeLessThan(missed.cursor);
    again.ws.close();
  });

  it("marks all read over REST; counts agree between REST and the socket; clicks count as clicked", async () => {
    const token = await tokenFor("u4");
    const ids = [await notify("u4", "a"), await notify("u4", "b"), await notify("u4", "c")];
    const device = await connect(token);
    await device.next((m) => m.type === "hello");
    await device.next((m) => m.type === "items");

    const clicked = await inboxApi(token, "POST", "/items/mark", { ids: [ids[0]], action: "click" });
    expect(clicked.json.counts.unread).toBe(2);
    expect((await call("GET", `/api/communications/${ids[0]}`, { key })).json.status).toBe("clicked");

    const all = await inboxApi(token, "POST", "/items/read-all");
    expect(all.json.counts).toMatchObject({ unread: 0, total: 3 });
    let last: any;
    for (;;) {
      last = await device.next((m) => m.type === "items");
      if (last.counts.unread === 0) break;
    }
    expect((await inboxApi(token, "GET", "/counts")).json).toEqual(last.counts);

    await inboxApi(token, "POST", "/items/mark", { ids: [ids[2]], action: "archive" });
    expect((await inboxApi(token, "GET", "/items")).json.items.map((i: { id: string }) => i.id)).toEqual([ids[1], ids[0]]);
    expect((await inboxApi(token, "GET", "/items?archived=true")).json.items.map((i: { id: string }) => i.id)).toEqual([ids[2]]);
    device.ws.close();
  });

  it("keeps a socket working after the object is evicted (hibernation)", async () => {
    const token = await tokenFor("u5");
    const device = await connect(token);
    await device.next((m) => m.type === "hello");
    await evictDurableObject(inboxStub(env.INBOX, tenantId, "user", "u5"), { webSockets: "hibernate" });
    const id = await notify("u5", "after eviction");
    expect(await device.next((m) => m.type === "items")).toMatchObject({ items: [{ id }] });
    device.send({ type: "sync", cursor: 0 });
    expect((await device.next((m) => m.type === "items")).items).toHaveLength(1);
    device.send("not json");
    expect(await device.next((m) => m.type === "error")).toBeTruthy();
    device.ws.close();
  });

  it("rejects forged, expired and missing tokens, and keeps each tenant's inboxes apart", async () => {
    await notify("u6", "secret");
    const token = await tokenFor("u6");
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    expect((await inboxApi(forged, "GET", "/items")).status).toBe(401);
    const { token: expired } = await mintInboxToken(env.ENCRYPTION_KEY!, { tenantId, recipientType: "user", recipientId: "u6" }, 60, new Date(Date.now() - 3600_000));
    expect((await inboxApi(expired, "GET", "/items")).status).toBe(401);
    expect((await call("GET", "/api/inbox/items")).status).toBe(401);
    // An API key is not an inbox token, and an inbox token is not an API key.
    expect((await inboxApi(key, "GET", "/items")).status).toBe(401);
    expect((await call("GET", "/api/communications", { key: token })).status).toBe(401);

    const other = await createTenant("Other");
    const theirs = await tokenFor("u6", other.key);
    expect((await inboxApi(theirs, "GET", "/items")).json.items).toEqual([]);
    expect((await call("POST", "/api/inbox/tokens", { body: { recipientId: "u6" } })).status).toBe(401);
  });
});

describe("catching up from far behind", () => {
  it("sends everything in pages whose cursors never run ahead of what was sent", async () => {
    const stub = inboxStub(env.INBOX, tenantId, "user", "bulk");
    for (let i = 0; i < 520; i++) {
      await stub.deliver(tenantId, { id: `item-${i}`, title: null, body: `n${i}`, actionUrl: null, category: "t", data: null, createdAt: Date.now() });
    }
    const device = await connect(await tokenFor("bulk"));
    expect((await device.next((m) => m.type === "hello")).cursor).toBe(0);
    const first = await device.next((m) => m.type === "items");
    const second = await device.next((m) => m.type === "items");
    expect([first.items.length, second.items.length]).toEqual([500, 20]);
    expect(first.cursor).toBe(first.items.at(-1).version);
    expect(second.cursor).toBe(second.items.at(-1).version);
    expect(new Set([...first.items, ...second.items].map((i: { id: string }) => i.id)).size).toBe(520);
    device.ws.close();
  });

  it("does not re-broadcast or re-record a mark that changes nothing", async () => {
    const id = await notify("u7", "once");
    const token = await tokenFor("u7");
    await inboxApi(token, "POST", "/items/mark", { ids: [id], action: "read" });
    const again = await inboxApi(token, "POST", "/items/mark", { ids: [id], action: "read" });
    expect(again.json.items).toEqual([]);
    const events = (await call("GET", `/api/communications/${id}`, { key })).json.events.filter((e: { kind: string }) => e.kind === "provider_event");
    expect(events).toHaveLength(1);
  });
});

describe("inbox retention", () => {
  it("drops items older than the tenant's retention when new ones arrive", async () => {
    await call("PATCH", "/api/settings", { key, body: { retentionDays: 7 } });
    const stub = inboxStub(env.INBOX, tenantId, "user", "u8");
    await stub.deliver(tenantId, { id: "ancient", title: null, body: "old", actionUrl: null, category: "t", data: null, createdAt: Date.now() - 8 * 86_400_000 });
    const fresh = await notify("u8", "new");
    const items = (await inboxApi(await tokenFor("u8"), "GET", "/items")).json.items.map((i: { id: string }) => i.id);
    expect(items).toEqual([fresh]);
  });
});

describe("inbox client and demo page", () => {
  it("serves a dependency-free client module and a demo page that uses it", async () => {
    const js = await exports.default.fetch("https://herald.test/inbox/client.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    const source = await js.text();
    expect(source).toContain("export function connectInbox");
    expect(source).not.toMatch(/^import /m);
    const demo = await exports.default.fetch("https://herald.test/inbox/demo");
    expect(demo.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await demo.text()).toContain('import { connectInbox } from "./client.js"');
  });
});
