// Audiences (lists and topics of recipients, docs/campaigns.md): list them, create one, and on an
// audience's page see its members page by page and import more from a CSV file (a header row
// naming recipientId and any of recipientType, name, email, phone; other columns become
// template variables). A bad row comes back as a 422 naming the row and field, shown as such.
import { api, query } from "../api.js";
import { announce, field, h, select, showErrors, table, values, when } from "../dom.js";

export async function render(view, [id, search]) {
  if (id) return renderAudience(view, id, new URLSearchParams(search ?? ""));
  const { results } = await api("GET", "/api/audiences");
  const form = h(
    "form",
    { class: "stack", novalidate: true, "aria-labelledby": "new-audience-h" },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Name", h("input", { name: "name", required: true })),
    field("Kind", select("kind", [["list", "list"], ["topic", "topic (recipients subscribe themselves)"]], "list")),
    field("Description", h("input", { name: "description" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create audience")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    if (!v.name) return showErrors(form, { message: "The audience needs a name.", errors: [{ field: "name", message: "Enter a name." }] });
    try {
      const created = await api("POST", "/api/audiences", v);
      announce(`Audience "${created.name}" created.`);
      location.hash = `#/audiences/${encodeURIComponent(created.id)}`;
    } catch (err) {
      showErrors(form, err);
    }
  });
  const rows = results.map((a) =>
    h("tr", {}, h("td", {}, h("a", { href: `#/audiences/${encodeURIComponent(a.id)}` }, a.name)), h("td", {}, a.kind), h("td", {}, a.description ?? "—"), h("td", {}, when(a.createdAt))),
  );
  view.replaceChildren(
    h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Audiences"), h("a", { href: "#/campaigns", class: "button secondary" }, "Campaigns")),
    h("p", { class: "muted" }, "An audience is who a campaign goes to. Opt-outs and suppressions are still checked for every message sent."),
    rows.length ? table("Audiences", ["Name", "Kind", "Description", "Created"], rows) : h("p", { class: "empty" }, "No audiences yet."),
    h("section", { "aria-labelledby": "new-audience-h" }, h("h2", { id: "new-audience-h" }, "New audience"), form),
  );
}

async function renderAudience(view, id, params) {
  const path = `/api/audiences/${encodeURIComponent(id)}`;
  const after = params.get("after") ?? undefined;
  const [a, page] = await Promise.all([api("GET", path), api("GET", `${path}/members${query({ size: 50, after })}`)]);
  const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv" });
  const pasted = h("textarea", { name: "csv", rows: 5, spellcheck: false, placeholder: "recipientId,name,email\nada,Ada Lovelace,ada@example.com" });
  const result = h("p", { id: "import-result", role: "status" });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("CSV file", file, "The header row names recipientId and any of recipientType, name, email, phone; other columns become template variables."),
    field("Or paste CSV", pasted),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Import members")),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = file.files[0] ? await file.files[0].text() : pasted.value;
    if (!text.trim()) return showErrors(form, { message: "Choose a CSV file or paste its rows.", errors: [{ field: "file", message: "Choose a file, or paste CSV below." }] });
    try {
      const r = await api("POST", `${path}/import`, new Blob([text], { type: "text/csv" }));
      showErrors(form, null);
      const summary = `Imported ${r.received} rows: ${r.added} added, ${r.updated} updated, ${r.duplicates} duplicates. The audience has ${r.members} members.`;
      announce(summary);
      await renderAudience(view, id, new URLSearchParams());
      view.querySelector("#import-result").textContent = summary;
    } catch (err) {
      showErrors(form, err);
    }
  });
  const rows = page.results.map((m) =>
    h("tr", {}, h("td", {}, `${m.recipientType}/${m.recipientId}`), h("td", {}, m.name ?? "—"), h("td", {}, m.email ?? "—"), h("td", {}, m.phone ?? "—"), h("td", {}, m.variables ? JSON.stringify(m.variables) : "—")),
  );
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/audiences" }, "← Audiences")),
    h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, a.name), h("a", { class: "button", href: `#/campaigns/new?${new URLSearchParams({ audienceId: a.id })}` }, "New campaign to this audience")),
    h("p", { class: "muted", id: "audience-count" }, `${a.kind} · ${a.members} member${a.members === 1 ? "" : "s"}${a.description ? ` · ${a.description}` : ""}`),
    h("section", { "aria-labelledby": "import-h" }, h("h2", { id: "import-h" }, "Import members"), form),
    h("h2", {}, "Members"),
    rows.length ? table("Members", ["Recipient", "Name", "Email", "Phone", "Variables"], rows) : h("p", { class: "empty" }, "No members yet."),
    h(
      "p",
      { class: "pager" },
      after ? h("a", { href: `#/audiences/${encodeURIComponent(id)}` }, "First page") : null,
      page.next ? h("a", { href: `#/audiences/${encodeURIComponent(id)}?${new URLSearchParams({ after: page.next })}` }, "Next page") : null,
    ),
  );
}
