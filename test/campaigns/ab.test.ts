/**
 * A/B tests: variants go to a test share of the audience, the cron picks the winner by the
 * campaign's metric once the test time is over (or a person picks it), and the winner goes to
 * everyone else. Opens and clicks are seeded in D1, as tracking would record them.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { addProvider, call, createTenant } from "../helpers";
import { audience, campaign, campaignRows, captureQueues, cron, deliverBulk, fanOut, people, progress, type Queues } from "./fixtures";

let key: string;
let q: Queues;
let templates: Record<"A" | "B", string>;

async function template(code: string, body: string) {
  const res = await call("POST", "/api/communication-templates", {
    key,
    body: { name: code, code, channel: "email", type: "marketing", subjectTemplate: "Spring at {{shop}}", bodyTemplate: body },
  });
  expect(res.status, res.text).toBe(201);
  return res.json.id as string;
}

beforeEach(async () => {
  vi.restoreAllMocks();
  q = captureQueues();
  ({ key } = await createTenant());
  await addProvider(key, { channel: "email", provider: "sandbox" });
  templates = { A: await template("spring_a", "Hi {{firstName}}, 10% off"), B: await template("spring_b", "{{firstName}}, 20% off today only") };
});

const members = (n: number) => people(n).map((m, i) => ({ ...m, variables: { firstName: `F${i}` } }));

async function abCampaign(extra: Record<string, unknown> = {}) {
  return campaign(key, {
    audienceId: await audience(key, members(400)),
    subject: undefined,
    content: undefined,
    templateVariables: { shop: "Acme" },
    variants: [
      { name: "A", templateId: templates.A },
      { name: "B", templateId: templates.B },
    ],
    testPercent: 25,
    testDurationMinutes: 30,
    ...extra,
  });
}

/** Marks `n` of a variant's messages opened (and clicked), as tracking would. */
async function seed(campaignId: string, variant: string, n: number, column: "opened_at" | "clicked_at") {
  await env.DB.prepare(
    `UPDATE communication SET ${column} = ?, status = ? WHERE id IN (SELECT id FROM communication WHERE campaign_id = ? AND campaign_variant = ? ORDER BY id LIMIT ?)`,
  )
    .bind(Date.now(), column === "opened_at" ? "opened" : "clicked", campaignId, variant, n)
    .run();
}

describe("A/B tests", { timeout: 30_000 }, () => {
  it("sends the variants to the test share, then the winner by open rate to everyone else", async () => {
    const c = await abCampaign();
    await call("POST", `/api/campaigns/${c.id}/send`, { key });
    await fanOut(q);
    await deliverBulk(q);
    const test = await campaignRows(c.id);
    // About a quarter of 400, split about evenly; the hash decides, the same on every replay.
    expect(test.length).toBeGreaterThan(70);
    expect(test.length).toBeLessThan(130);
    const a = test.filter((r) => r.campaign_variant === "A");
    const b = test.filter((r) => r.campaign_variant === "B");
    expect(a.length).toBeGreaterThan(20);
    expect(b.length).toBeGreaterThan(20);
    let p = await progress(key, c.id);
    expect(p.status).toBe("testing");
    expect(p.abTest).toMatchObject({ testPercent: 25, winnerMetric: "opened", winner: null });

    const body = await call("GET", `/api/communications/${b[0]!.id}`, { key });
    expect(body.json).toMatchObject({ subject: "Spring at Acme", content: expect.stringMatching(/^F\d+, 20% off today only/) });

    await seed(c.id, "A", 5, "opened_at");
    await seed(c.id, "B", 15, "opened_at");
    await cron(Date.now() + 10 * 60_000); // the test is not over
    expect((await progress(key, c.id)).status).toBe("testing");
    await cron(Date.now() + 31 * 60_000);
    p = await progress(key, c.id);
    expect(p).toMatchObject({ status: "sending", phase: "main", abTest: { winner: "B", pickedBy: "auto:opened" } });
    await fanOut(q);

    const all = await campaignRows(c.id);
    expect(all).toHaveLength(400);
    expect(new Set(all.map((r) => r.recipient_id)).size).toBe(400);
    expect(all.filter((r) => r.campaign_variant === "A")).toHaveLength(a.length);
    expect(all.filter((r) => r.campaign_variant === "B")).toHaveLength(400 - a.length);
    p = await progress(key, c.id);
    expect(p.status).toBe("completed");
    const results = Object.fromEntries(p.results.map((r: any) => [r.variant, r]));
    expect(results.A).toMatchObject({ targeted: a.length, delivered: a.length, opened: 5, rates: { opened: Math.round((5 / a.length) * 10_000) / 10_000 } });
    expect(results.B).toMatchObject({ targeted: 400 - a.length, opened: 15 });
  });

  it("picks the winner by click rate when told to", async () => {
    const c = await abCampaign({ winnerMetric: "clicked" });
    await call("POST", `/api/campaigns/${c.id}/send`, { key });
    await fanOut(q);
    await deliverBulk(q);
    await seed(c.id, "B", 12, "opened_at"); // more opens for B, more clicks for A
    await seed(c.id, "A", 4, "clicked_at");
    await cron(Date.now() + 31 * 60_000);
    expect((await progress(key, c.id)).abTest).toMatchObject({ winner: "A", pickedBy: "auto:clicked" });
  });

  it("a person can pick the winner, during the test or while it waits", async () => {
    const c = await abCampaign();
    await call("POST", `/api/campaigns/${c.id}/send`, { key });
    const early = await call("POST", `/api/campaigns/${c.id}/winner`, { key, body: { variant: "A" } });
    expect(early.status, early.text).toBe(200);
    expect(early.json.abTest).toMatchObject({ winner: "A", pickedBy: "manual" });
    expect((await call("POST", `/api/campaigns/${c.id}/winner`, { key, body: { variant: "B" } })).status).toBe(409);
    await fanOut(q); // the test share, then straight on to everyone else: no waiting for the test time
    const all = await campaignRows(c.id);
    expect(all).toHaveLength(400);
    expect((await progress(key, c.id)).status).toBe("completed");

    const later = await abCampaign();
    await call("POST", `/api/campaigns/${later.id}/send`, { key });
    await fanOut(q);
    expect((await progress(key, later.id)).status).toBe("testing");
    const bad = await call("POST", `/api/campaigns/${later.id}/winner`, { key, body: { variant: "C" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("variant");
    const picked = await call("POST", `/api/campaigns/${later.id}/winner`, { key, body: { variant: "B" } });
    expect(picked.json).toMatchObject({ status: "sending", phase: "main" });
    await fanOut(q);
    const rest = await campaignRows(later.id);
    expect(rest).toHaveLength(400);
    expect(rest.filter((r) => r.campaign_variant === "A").length).toBeGreaterThan(0);
  });
});
