/** Audiences: bulk add and remove, CSV import with dedupe and errors naming row and field, topics, paging, isolation. */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { exports } from "cloudflare:workers";
import { BASE, call, createTenant } from "../helpers";
import { audience, people } from "./fixtures";

let key: string;
beforeEach(async () => {
  vi.restoreAllMocks();
  ({ key } = await createTenant());
});

async function csv(id: string, file: string) {
  const res = await exports.default.fetch(`${BASE}/api/audiences/${id}/import`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "text/csv; charset=utf-8" },
    body: file,
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as any };
}

describe("audiences", { timeout: 30_000 }, () => {
  it("adds members in bulk, dedupes within and across calls, counts and pages them", async () => {
    const id = await audience(key, []);
    const first = await call("POST", `/api/audiences/${id}/members`, { key, body: { members: [...people(300), { recipientId: "m00001", email: "NEW@Example.com" }] } });
    expect(first.status, first.text).toBe(200);
    expect(first.json).toEqual({ received: 301, duplicates: 1, added: 300, updated: 0, members: 300 });
    const again = await call("POST", `/api/audiences/${id}/members`, { key, body: { members: people(10, 295) } });
    expect(again.json).toMatchObject({ added: 5, updated: 5, members: 305 });
    expect((await call("GET", `/api/audiences/${id}/count`, { key })).json).toEqual({ count: 305 });

    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page = await call("GET", `/api/audiences/${id}/members?size=100${after ? `&after=${encodeURIComponent(after)}` : ""}`, { key });
      expect(page.status, page.text).toBe(200);
      seen.push(...page.json.results.map((m: any) => m.recipientId));
      after = page.json.next;
    } while (after);
    expect(seen).toHaveLength(305);
    expect(new Set(seen).size).toBe(305);
    const m1 = (await call("GET", `/api/audiences/${id}/members?size=2`, { key })).json.results[1];
    expect(m1).toMatchObject({ recipientId: "m00001", email: "new@example.com", name: "Member 1" });

    const removed = await call("POST", `/api/audiences/${id}/members/remove`, { key, body: { members: [{ recipientId: "m00000" }, { recipientId: "m00001" }, { recipientId: "nobody" }] } });
    expect(removed.json).toMatchObject({ members: 303 });
  });

  it("takes 10,000 members in one call", async () => {
    const id = await audience(key, []);
    const res = await call("POST", `/api/audiences/${id}/members`, { key, body: { members: people(10_000) } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.members).toBe(10_000);
    const tooMany = await call("POST", `/api/audiences/${id}/members`, { key, body: { members: people(10_001) } });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.errors[0].field).toBe("members");
  });

  it("names the member and field of a bad contact, and stores nothing", async () => {
    const id = await audience(key, []);
    const res = await call("POST", `/api/audiences/${id}/members`, { key, body: { members: [...people(3), { recipientId: "x", phone: "12" }] } });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([{ field: "members.3.phone", message: expect.stringContaining("E.164") }]);
    expect((await call("GET", `/api/audiences/${id}/count`, { key })).json.count).toBe(0);
  });

  it("imports CSV with quoted fields, extra columns as variables, and dedupe", async () => {
    const id = await audience(key, []);
    const res = await csv(id, 'recipientId,email,name,plan\r\nc1,a@x.test,"Doe, Jane",gold\r\nc2,b@x.test,"Bob ""B""",silver\r\nc1,a2@x.test,Jane,gold\r\n\r\n');
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ received: 3, duplicates: 1, added: 2, members: 2 });
    const page = (await call("GET", `/api/audiences/${id}/members`, { key })).json.results;
    expect(page).toEqual([
      expect.objectContaining({ recipientId: "c1", email: "a2@x.test", name: "Jane", variables: { plan: "gold" } }),
      expect.objectContaining({ recipientId: "c2", name: 'Bob "B"', variables: { plan: "silver" } }),
    ]);
  });

  it("refuses bad CSV with a 422 naming the row and field", async () => {
    const id = await audience(key, []);
    const bad = await csv(id, "recipientId,email\nc1,a@x.test\nc2,not-an-email\n");
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual([{ field: "row 3.email", message: "must be an email address" }]);
    const noId = await csv(id, "email\na@x.test\n");
    expect(noId.status).toBe(422);
    expect(noId.json.errors[0].field).toBe("row 1");
    const unclosed = await csv(id, 'recipientId,name\nc1,"open\n');
    expect(unclosed.status).toBe(422);
    expect(unclosed.json.errors[0].field).toBe("row 2");
    const json = await call("POST", `/api/audiences/${id}/import`, { key, body: { members: [] } });
    expect(json.status).toBe(422);
    expect(json.json.errors[0].field).toBe("content-type");
    expect((await call("GET", `/api/audiences/${id}/count`, { key })).json.count).toBe(0);
  });

  it("subscribes and unsubscribes one recipient to a topic", async () => {
    const id = await audience(key, [], { kind: "topic", name: "release-notes" });
    const sub = await call("POST", `/api/audiences/${id}/subscribe`, { key, body: { recipientType: "user", recipientId: "u1", email: "u1@x.test" } });
    expect(sub.status, sub.text).toBe(200);
    expect((await call("GET", `/api/audiences/${id}`, { key })).json).toMatchObject({ kind: "topic", name: "release-notes", members: 1 });
    await call("POST", `/api/audiences/${id}/unsubscribe`, { key, body: { recipientType: "user", recipientId: "u1" } });
    expect((await call("GET", `/api/audiences/${id}/count`, { key })).json.count).toBe(0);
    expect((await call("POST", "/api/audiences", { key, body: { name: "release-notes" } })).status).toBe(409);
  });

  it("erasing a recipient takes them out of every audience", async () => {
    const a = await audience(key, people(3));
    const b = await audience(key, people(2));
    expect((await call("DELETE", "/api/recipients/customer/m00001", { key })).status).toBe(200);
    expect((await call("GET", `/api/audiences/${a}/count`, { key })).json.count).toBe(2);
    expect((await call("GET", `/api/audiences/${b}/count`, { key })).json.count).toBe(1);
  });

  it("is invisible to another tenant", async () => {
    const id = await audience(key, people(2));
    const other = await createTenant("Other");
    for (const [method, path, body] of [
      ["GET", `/api/audiences/${id}`],
      ["GET", `/api/audiences/${id}/members`],
      ["GET", `/api/audiences/${id}/count`],
      ["POST", `/api/audiences/${id}/members`, { members: people(1) }],
      ["POST", `/api/audiences/${id}/subscribe`, { recipientId: "z" }],
      ["DELETE", `/api/audiences/${id}`],
    ] as const) {
      expect((await call(method, path, { key: other.key, body })).status, `${method} ${path}`).toBe(404);
    }
    expect((await call("GET", "/api/audiences", { key: other.key })).json.results).toEqual([]);
    expect((await call("GET", `/api/audiences/${id}/count`, { key })).json.count).toBe(2);
  });
});
