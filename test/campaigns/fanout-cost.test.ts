/**
 * What one fan-out chunk costs: a constant few D1 round trips and one sendBatch, however many
 * members it holds (the D1 database is the first ceiling: docs/scaling.md).
 */
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import delivery from "../../workers/delivery/src/index";
import type { CampaignMessage } from "../../src/campaigns/message";
import { cachedSettings } from "../../src/cache/tenant-config";
import { database } from "../../src/db/client";
import { addProvider, call, createTenant } from "../helpers";
import { audience, campaign, campaignRows, captureQueues, people, type Queues } from "./fixtures";
import { countingDb } from "../d1-counter";

let key: string;
let tenantId: string;
let q: Queues;

beforeEach(async () => {
  vi.restoreAllMocks();
  q = captureQueues();
  ({ key, tenantId } = await createTenant());
  await addProvider(key, { channel: "email", provider: "sandbox" });
});


describe("a fan-out chunk", () => {
  it("of 100 members costs a constant few D1 round trips and one sendBatch onto the bulk lane", async () => {
    const list = await audience(key, people(100));
    // sendRate 100: one chunk of 100 members per message, and the message ends after it.
    const c = await campaign(key, { audienceId: list, sendRate: 100 });
    expect((await call("POST", `/api/campaigns/${c.id}/send`, { key })).status).toBe(202);
    const [first] = q.chunks.drain();
    await cachedSettings(database(env.DB), tenantId); // a warm snapshot, as under load
    const { db, counts } = countingDb(env.DB);
    const batch = createMessageBatch<CampaignMessage>("herald-campaigns", [{ id: "chunk-1", timestamp: new Date(), attempts: 1, body: first!.body }]);
    const ctx = createExecutionContext();
    await delivery.queue(batch as MessageBatch<unknown>, { ...env, DB: db });
    await waitOnExecutionContext(ctx);

    expect(await campaignRows(c.id)).toHaveLength(100);
    expect(q.bulk.sent).toHaveLength(100);
    expect(vi.mocked(env.BULK_QUEUE.sendBatch).mock.calls).toHaveLength(1);
    // The campaign with its next members, who already has one with every member's preferences,
    // then the store: 3 (it was 5, and one more per tenant while its snapshot is cold). The
    // statements are about one per member: each communication is its own insert.
    expect(counts.roundTrips, counts.statements.join("\n")).toBeLessThanOrEqual(3);
    expect(counts.statements.length).toBeLessThanOrEqual(110);
  });
});
