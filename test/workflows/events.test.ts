/**
 * Business events and workflows: POST /api/events starts the workflows that list the event type
 * in triggerEvents (one run per recipient, once however often the event is redelivered), and a
 * later event resolves the recipient's run waiting on it and stops the entity's reminder sequence.
 */
import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant, runAutomation } from "../helpers";
import { postEvent, processEvents, sandboxTenant, type Capture } from "../automation/fixtures";
import { finished, stepOf, waitForRun } from "./helpers";

let key: string;
let q: Capture;

beforeEach(async () => {
  ({ key, q } = await sandboxTenant(["email"]));
});

const jane = { type: "customer", id: "cus-1", name: "Jane", email: "jane@example.com" };

async function runsOf(workflowKey: string) {
  const res = await call("GET", `/api/workflows/${workflowKey}/runs`, { key });
  expect(res.status, res.text).toBe(200);
  return res.json.results as { id: string; status: string; data: Record<string, unknown> }[];
}

describe("business events and workflows", () => {
  it("start the mapped workflow once per recipient, and a cancelling event resolves the wait and stops the reminders", async () => {
    await using _wf = await introspectWorkflow(env.JOURNEYS);
    const copy = await call("POST", "/api/workflow-templates/collection-until-paid/copy", { key, body: {} });
    expect(copy.status, copy.text).toBe(201);

    const overdue = { type: "invoice.overdue", entityType: "invoice", entityId: "inv-1", recipient: jane, data: { invoiceId: "inv-1", invoiceNumber: "INV-1", amount: 50, businessName: "Acme", daysOverdue: 3 } };
    await postEvent(key, overdue);
    const messages = q.automation.drain();
    await runAutomation(messages);
    await runAutomation(messages); // redelivered: no second run
    const [run, ...more] = await runsOf("collection-until-paid");
    expect(more).toHaveLength(0);
    expect(run!.data).toMatchObject({ invoiceId: "inv-1", entityType: "invoice" });
    const waiting = await waitForRun(key, run!.id, (r) => stepOf(r, "wait-paid")?.status === "waiting");
    const seqId = stepOf(waiting, "collection").output.reminderSequenceId;
    expect((await call("GET", `/api/reminders/${seqId}`, { key })).json.status).toBe("active");

    const paid = await postEvent(key, { type: "payment.received", entityType: "invoice", entityId: "inv-1", recipient: jane, data: { amount: 50 } });
    await processEvents(q);
    const done = await waitForRun(key, run!.id, finished);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "wait-paid").outcome).toBe("event_received");
    expect(stepOf(done, "paid").outcome).toBe("sent");
    const seq = (await call("GET", `/api/reminders/${seqId}`, { key })).json;
    expect(seq).toMatchObject({ status: "cancelled", cancelledBy: { eventType: "payment.received", eventId: paid.id } });
  });

  it("leave other tenants' workflows alone, and archived workflows start nothing", async () => {
    await using _wf = await introspectWorkflow(env.JOURNEYS);
    await call("POST", "/api/workflow-templates/invoice-after-sale/copy", { key, body: {} });
    const other = await createTenant("Other");
    await call("POST", "/api/workflow-templates/invoice-after-sale/copy", { key: other.key, body: { key: "theirs" } });
    await postEvent(key, { type: "sale.created", recipient: jane, data: { invoiceNumber: "INV-2" } });
    await processEvents(q);
    expect(await runsOf("invoice-after-sale")).toHaveLength(1);
    expect((await call("GET", "/api/workflows/theirs/runs", { key: other.key })).json.results).toHaveLength(0);

    expect((await call("DELETE", "/api/workflows/invoice-after-sale", { key })).status).toBe(204);
    await postEvent(key, { type: "sale.created", recipient: jane, data: { invoiceNumber: "INV-3" } });
    await processEvents(q);
    const runs = await env.DB.prepare("SELECT count(*) AS n FROM workflow_run WHERE workflow_key = 'invoice-after-sale'").first<{ n: number }>();
    expect(runs!.n).toBe(1);
  });
});
