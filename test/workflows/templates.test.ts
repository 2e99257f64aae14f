/** Ready-made workflow templates: each validates, lists, and copies into the tenant's workflows. */
import { beforeEach, describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { WorkflowDefinition } from "../../src/workflows/definition";
import { WORKFLOW_TEMPLATES } from "../../src/workflows/templates";
import { SYSTEM_TEMPLATES } from "../../src/templates/system";

let key: string;
beforeEach(async () => {
  ({ key } = await createTenant());
});

describe("workflow templates", () => {
  it("cover the seed's four use cases, each a valid definition on system templates", () => {
    expect(WORKFLOW_TEMPLATES.map((t) => t.key)).toEqual(["invoice-after-sale", "payment-link", "collection-until-paid", "low-stock-by-role"]);
    const codes = new Set(SYSTEM_TEMPLATES.map((t: { code: string }) => t.code));
    for (const t of WORKFLOW_TEMPLATES) {
      const parsed = WorkflowDefinition.safeParse(t.definition);
      expect(parsed.success, `${t.key}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      for (const code of JSON.stringify(t.definition).match(/"templateCode":"([a-z_]+)"/g) ?? []) expect(codes.has(code.split('"')[3]!), code).toBe(true);
    }
  });

  it("list through the API", async () => {
    const res = await call("GET", "/api/workflow-templates", { key });
    expect(res.status).toBe(200);
    expect(res.json.results).toHaveLength(4);
    expect(res.json.results[2]).toMatchObject({ key: "collection-until-paid", triggerEvents: ["invoice.overdue"], steps: [{ type: "start_reminder" }, { type: "wait_for_event" }] });
  });

  it("copy into a workflow under its own key or a chosen one, once per key", async () => {
    const copy = await call("POST", "/api/workflow-templates/payment-link/copy", { key, body: {} });
    expect(copy.status, copy.text).toBe(201);
    expect(copy.json).toMatchObject({ key: "payment-link", version: 1, name: "Payment link", triggerEvents: ["payment_link.requested"] });
    expect((await call("GET", "/api/workflows/payment-link", { key })).json.steps).toEqual(copy.json.steps);

    const again = await call("POST", "/api/workflow-templates/payment-link/copy", { key, body: {} });
    expect(again.status).toBe(409);
    const named = await call("POST", "/api/workflow-templates/payment-link/copy", { key, body: { key: "pay-eu", name: "Payment link (EU)" } });
    expect(named.json).toMatchObject({ key: "pay-eu", name: "Payment link (EU)", version: 1 });

    // The copy is an ordinary workflow: PUT publishes version 2.
    const put = await call("PUT", "/api/workflows/pay-eu", { key, body: { name: "EU", steps: copy.json.steps, triggerEvents: [] } });
    expect(put.json.version).toBe(2);
  });

  it("answer 404 for an unknown template and 422 naming a bad key", async () => {
    expect((await call("POST", "/api/workflow-templates/nope/copy", { key, body: {} })).status).toBe(404);
    const bad = await call("POST", "/api/workflow-templates/payment-link/copy", { key, body: { key: "Bad Key" } });
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].field).toBe("key");
  });

  it("copies belong to the tenant that made them", async () => {
    await call("POST", "/api/workflow-templates/low-stock-by-role/copy", { key, body: {} });
    const other = await createTenant("Other");
    expect((await call("GET", "/api/workflows/low-stock-by-role", { key: other.key })).status).toBe(404);
    expect((await call("POST", "/api/workflow-templates/low-stock-by-role/copy", { key: other.key, body: {} })).status).toBe(201);
  });

  it("stand in for trigger rule presets: /api/triggers says it is deprecated and where the mapping is", async () => {
    const res = await call("GET", "/api/triggers", { key });
    expect(res.status).toBe(200);
    expect(res.headers.get("deprecation")).toBe("true");
    expect(res.headers.get("link")).toContain("workflows-migration");
  });
});
