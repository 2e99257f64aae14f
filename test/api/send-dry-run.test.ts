/** POST /api/communications/send/dry-run: the send's checks and rendering, with no effect. */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, captureQueue, createTenant } from "../helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  vi.restoreAllMocks();
  queue = captureQueue();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "email", provider: "sandbox" });
});

describe("POST /api/communications/send/dry-run", () => {
  it("answers with what the send would store, rendered, and stores, enqueues and counts nothing", async () => {
    const res = await call("POST", "/api/communications/send/dry-run", {
      key,
      body: { channel: "email", recipientContact: "Ada@Example.com", subject: "Hi", content: "<p>Hello <b>Ada</b></p>", recipientId: "u1" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ dryRun: true, stored: false, results: [{ channel: "email", status: "queued", recipientContact: "ada@example.com", subject: "Hi", content: "<p>Hello <b>Ada</b></p>" }] });
    expect(res.json.results[0]).not.toHaveProperty("id");
    expect(queue.sent).toHaveLength(0);
    expect((await call("GET", "/api/communications", { key })).json.count).toBe(0);
    // Nothing charged to the month's quota either; a real send moves it.
    const used = async () => (await call("GET", "/api/usage", { key })).json.channels.find((c: { channel: string }) => c.channel === "email").used;
    expect(await used()).toBe(0);
    expect((await call("POST", "/api/communications/send", { key, body: { channel: "email", recipientContact: "ada@example.com", subject: "Hi", content: "x" } })).status).toBe(201);
    expect(await used()).toBe(1);
  });

  it("refuses what the send would refuse, naming the field", async () => {
    const res = await call("POST", "/api/communications/send/dry-run", { key, body: { channel: "sms", recipientContact: "+1 555 0000", content: "x" } });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(res.json.errors).toEqual([{ field: "recipientContact", message: expect.stringContaining("is not in the numbering plan of +1") }]);
  });

  it("says a send to a recipient who turned the channel off would be suppressed", async () => {
    await call("PATCH", "/api/communication-preferences/customer/u2", { key, body: { emailEnabled: false } });
    const res = await call("POST", "/api/communications/send/dry-run", { key, body: { channel: "email", recipientId: "u2", recipientContact: "u2@example.com", subject: "Hi", content: "x" } });
    expect(res.json.results).toMatchObject([{ status: "suppressed" }]);
  });
});
