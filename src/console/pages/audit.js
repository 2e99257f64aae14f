// The audit log: who changed what (keys, providers, templates, settings …), newest first, filtered
// by action, resource type and dates, paged with the API's cursor. Filters and the cursor trail
// live in the hash, so a page survives a reload and the back button.
import { api, openApi, query } from "../api.js";
import { field, h, select, table, values, when } from "../dom.js";

const PAGE = 25;

/** The actions the API filters by, from its own schema (OpenAPI), so the list cannot drift. */
async function auditFilters() {
  const doc = await openApi();
  const params = doc.paths["/api/audit-log"].get.parameters;
  const options = (name) => params.find((p) => p.name === name)?.schema?.enum ?? [];
  return { actions: options("action"), resourceTypes: options("resourceType") };
}

const day = (d, end) => (d ? new Date(`${d}T${end ? "23:59:59.999" : "00:00:00.000"}Z`).toISOString() : undefined);

export async function render(view) {
  // Read from the hash itself: the router's decoded copy would turn an encoded "+" into a space.
  const filters = Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] ?? ""));
  // `trail`: the cursors of the pages before this one, so "Newer" can go back.
  const trail = filters.trail ? filters.trail.split(",") : [];
  const { actions, resourceTypes } = await auditFilters();
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the audit log" },
    field("Action", select("action", [["", "Any action"], ...actions.map((a) => [a, a])], filters.action ?? "")),
    field("Resource", select("resourceType", [["", "Any resource"], ...resourceTypes.map((r) => [r, r])], filters.resourceType ?? "")),
    field("From", h("input", { name: "from", type: "date", value: filters.from ?? "" })),
    field("To", h("input", { name: "to", type: "date", value: filters.to ?? "" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/audit", class: "button secondary" }, "Clear")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/audit${query(values(form))}`;
  });

  const { results, nextCursor } = await api(
    "GET",
    `/api/audit-log${query({ action: filters.action, resourceType: filters.resourceType, since: day(filters.from), until: day(filters.to, true), cursor: filters.cursor, limit: PAGE })}`,
  );
  const base = { action: filters.action, resourceType: filters.resourceType, from: filters.from, to: filters.to };
  const older = nextCursor ? `#/audit${query({ ...base, cursor: nextCursor, trail: [...trail, filters.cursor ?? ""].join(",") })}` : null;
  const newer = filters.cursor ? `#/audit${query({ ...base, cursor: trail.at(-1) || undefined, trail: trail.slice(0, -1).join(",") || undefined })}` : null;
  const rows = results.map((a) =>
    h(
      "tr",
      {},
      h("td", {}, when(a.createdAt)),
      h("td", {}, h("code", {}, a.action)),
      h("td", {}, a.resourceId ? `${a.resourceType} ${a.resourceId}` : a.resourceType),
      h("td", {}, a.actor.type === "api_key" ? `key "${a.actor.name}"` : a.actor.name),
      h("td", {}, Object.keys(a.detail).length ? h("code", { class: "detail" }, JSON.stringify(a.detail)) : "—"),
      h("td", {}, a.requestId ? h("code", {}, a.requestId) : "—"),
    ),
  );
  view.replaceChildren(
    ...[
      h("h1", {}, "Audit log"),
      h("p", { class: "muted" }, "Every administrative change, with who made it and the request id. Details name fields, never secrets or content."),
      form,
      results.length ? table("Audit entries, newest first", ["When", "Action", "Resource", "By", "Detail", "Request"], rows) : h("p", { class: "empty", id: "no-audit" }, "No entry matches these filters."),
      newer || older
        ? h("nav", { class: "pager", "aria-label": "Pages" }, newer ? h("a", { href: newer, rel: "prev" }, "← Newer") : h("span"), older ? h("a", { href: older, rel: "next" }, "Older →") : h("span"))
        : null,
    ].filter(Boolean),
  );
}
