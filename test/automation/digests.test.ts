/** Digests: a burst of events for one recipient within the window becomes one message with the items. */
import { beforeEach, describe, expect, it } from "vitest";
import { communications, cron, event, postEvent, processEvents, sandboxTenant, trigger, type Capture } from "./fixtures";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email"]));
});

const manager = (id: string) => ({ type: "user", id, name: id, email: `${id}@acme.test`, roles: ["inventory_manager"] });
const low = (recipient: ReturnType<typeof manager>, name: string, quantity: number) => ({
  type: "stock.low",
  entityType: "item",
  entityId: name,
  recipient,
  data: { locationName: "Main St", name, quantity },
});

describe("a digest rule", () => {
  it("collapses a recipient's burst into one message when the window closes, items available to the template", async () => {
    await trigger(key, { preset: "low_stock_alert", action: { channels: ["email"], routing: "fixed", digest: { windowSeconds: 600 } } });
    const start = Date.now();
    const items = ["Flour", "Salt", "Sugar", "Yeast", "Oil"];
    let first = "";
    for (const [i, name] of items.entries()) {
      const e = await postEvent(key, low(manager("ines"), name, i + 1));
      first ||= e.id;
    }
    await postEvent(key, low(manager("mo"), "Rice", 2));
    await processEvents(q);
    expect(await communications(key)).toHaveLength(0);
    expect((await event(key, first)).outcome.rules[0].outcome).toBe("added to 1 digest(s)");

    await cron(start + 5 * 60_000); // window still open
    expect(await communications(key)).toHaveLength(0);
    await cron(start + 11 * 60_000);
    const sent = await communications(key);
    expect(sent).toHaveLength(2);
    const ines = sent.find((c) => c.recipientId === "ines")!;
    expect(ines.subject).toBe("Low stock at Main St: 5 items");
    expect(ines.content).toContain("5 items are running low");
    for (const [i, name] of items.entries()) expect(ines.content).toContain(`<li>${name}: ${i + 1} left</li>`);
    expect(ines.metadata).toMatchObject({ itemCount: 5 });
    expect(sent.find((c) => c.recipientId === "mo")!.subject).toBe("Low stock at Main St: 1 items");

    // The next event opens a new window rather than joining the one already sent.
    await postEvent(key, low(manager("ines"), "Butter", 1));
    await processEvents(q);
    await cron(Date.now() + 5 * 60_000); // its own window is still open
    expect(await communications(key)).toHaveLength(2);
    await cron(Date.now() + 11 * 60_000);
    const after = await communications(key);
    expect(after).toHaveLength(3);
    expect(after.filter((c) => c.recipientId === "ines").map((c) => c.subject)).toContain("Low stock at Main St: 1 items");
  });

  it("sends nothing for a rule deleted while its window was open", async () => {
    const rule = await trigger(key, { preset: "low_stock_alert", action: { channels: ["email"], routing: "fixed", digest: { windowSeconds: 60 } } });
    await postEvent(key, low(manager("zoe"), "Tea", 1));
    await processEvents(q);
    const { call } = await import("../helpers");
    await call("DELETE", `/api/triggers/${rule.id}`, { key });
    await cron(Date.now() + 2 * 60_000);
    expect(await communications(key)).toHaveLength(0);
  });
});
