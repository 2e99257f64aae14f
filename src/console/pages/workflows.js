// Workflows (docs/workflows.md): the list with the ready-made templates to copy, a new workflow,
// and a workflow's page: its steps in the structured editor (saving publishes a new immutable
// version and makes it active), its versions (activate one to roll back), a test trigger for one
// recipient, and its runs. A run's own page is workflow-run.js.
import { api, query } from "../api.js";
import { announce, field, h, select, showErrors, statusBadge, table, values, when } from "../dom.js";
import { pathField, placeErrors } from "./field-errors.js";
import { stepEditor, validateSteps } from "./workflow-steps.js";
import * as run from "./workflow-run.js";

export const RUN_STATUSES = ["pending", "running", "waiting", "completed", "cancelled", "failed", "throttled", "digested"];
const link = (key) => `#/workflows/${encodeURIComponent(key)}`;

export async function render(view, [key, runId, search]) {
  if (runId) return run.render(view, [key, runId]);
  if (key === "new") return renderEditor(view, null);
  if (key) return renderWorkflow(view, key, new URLSearchParams(search ?? ""));
  const [{ results }, { results: templates }] = await Promise.all([api("GET", "/api/workflows"), api("GET", "/api/workflow-templates")]);
  const rows = results.map((w) =>
    h("tr", {}, h("td", {}, h("a", { href: link(w.key) }, w.name)), h("td", {}, h("code", {}, w.key)), h("td", {}, `v${w.version}`), h("td", {}, String(w.steps.length)), h("td", {}, w.triggerEvents.join(", ") || "—"), h("td", {}, when(w.updatedAt))),
  );
  const copyRows = templates.map((t) => {
    const keyInput = h("input", { value: t.key, spellcheck: false, "aria-label": `Key for the copy of ${t.name}` });
    const error = h("p", { class: "field-error", hidden: true, role: "alert" });
    return h(
      "tr",
      {},
      h("td", {}, h("strong", {}, t.name), h("br"), h("span", { class: "muted" }, t.useCase)),
      h("td", {}, keyInput, error),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
        try {
          const copy = await api("POST", `/api/workflow-templates/${encodeURIComponent(t.key)}/copy`, { key: keyInput.value.trim() });
          announce(`Copied "${t.name}" as ${copy.key}.`);
          location.hash = link(copy.key);
        } catch (err) {
          Object.assign(error, { hidden: false, textContent: err.message });
          keyInput.setAttribute("aria-invalid", "true");
          keyInput.focus();
        }
      } }, `Copy ${t.name}`)),
    );
  });
  view.replaceChildren(
    h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Workflows"), h("a", { href: "#/workflows/new", class: "button" }, "New workflow")),
    h("p", { class: "muted" }, "A workflow is a keyed journey of steps; every save is a new version, and runs keep the version they started on."),
    rows.length ? table("Workflows", ["Name", "Key", "Active version", "Steps", "Triggered by", "Updated"], rows) : h("p", { class: "empty" }, "No workflows yet."),
    h("h2", {}, "Start from a template"),
    table("Workflow templates", ["Template", "Key of the copy", ""], copyRows),
  );
}

/** The definition form; `w` is the workflow to publish a new version of, or null for a new one. */
function renderEditor(view, w) {
  let form = null;
  const state = { steps: structuredClone(w?.steps ?? []) };
  const preview = h("pre", { class: "message", id: "workflow-json" });
  const meta = () => ({ name: form.elements.name.value.trim(), description: form.elements.description.value.trim() || undefined, triggerEvents: form.elements.triggerEvents.value.split(",").map((s) => s.trim()).filter(Boolean) });
  const editor = stepEditor(state, (steps) => (preview.textContent = JSON.stringify({ ...(form ? meta() : {}), steps }, null, 2)));
  form = h(
    "form",
    { class: "stack", novalidate: true, id: "workflow-form" },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    w ? null : pathField("Key", h("input", { name: "key", spellcheck: false }), "key", "Lowercase a-z, 0-9, _ . -: the trigger's address, POST /api/workflows/<key>/trigger."),
    pathField("Name", h("input", { name: "name", value: w?.name ?? "" }), "name"),
    pathField("Description", h("input", { name: "description", value: w?.description ?? "" }), "description"),
    pathField("Triggered by events", h("input", { name: "triggerEvents", value: (w?.triggerEvents ?? []).join(", "), placeholder: "sale.created" }), "triggerEvents", "Business events (POST /api/events) that start a run; comma-separated."),
    editor.element,
    h("details", {}, h("summary", {}, "The definition as JSON"), preview),
    h("div", { class: "actions" }, h("button", { type: "submit" }, w ? "Publish a new version" : "Create workflow")),
  );
  preview.textContent = JSON.stringify({ ...meta(), steps: editor.steps() }, null, 2);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { ...meta(), steps: editor.steps() };
    const key = w?.key ?? form.elements.key.value.trim();
    const local = [...(w || key ? [] : [{ field: "key", message: "Enter a key." }]), ...(body.name ? [] : [{ field: "name", message: "Enter a name." }]), ...validateSteps(body.steps)];
    if (local.length) return placeErrors(form, `Check ${local.length} field${local.length === 1 ? "" : "s"}.`, local);
    try {
      const saved = w ? await api("PUT", `/api/workflows/${encodeURIComponent(key)}`, body) : await api("POST", "/api/workflows", { key, ...body });
      announce(`Published version ${saved.version} of ${saved.key}.`);
      if (!w) return void (location.hash = link(saved.key));
      await renderWorkflow(view, key, new URLSearchParams());
      view.querySelector("h1")?.focus();
    } catch (err) {
      placeErrors(form, err.message, err.errors);
    }
  });
  if (!w) view.replaceChildren(h("p", {}, h("a", { href: "#/workflows" }, "← Workflows")), h("h1", { tabindex: -1 }, "New workflow"), form);
  return form;
}

async function renderWorkflow(view, key, params) {
  const path = `/api/workflows/${encodeURIComponent(key)}`;
  const status = params.get("status") ?? "";
  const [w, { results: versions }, runs] = await Promise.all([api("GET", path), api("GET", `${path}/versions`), api("GET", `${path}/runs${query({ status, limit: 50 })}`)]);
  const versionRows = versions.map((v) =>
    h(
      "tr",
      {},
      h("td", {}, `v${v.version}`),
      h("td", {}, v.name),
      h("td", {}, `${v.steps.length} step${v.steps.length === 1 ? "" : "s"}`),
      h("td", {}, when(v.createdAt)),
      h("td", {}, v.active ? "active" : h("button", { type: "button", class: "secondary", onclick: async () => {
        await api("POST", `${path}/versions/${v.version}/activate`);
        announce(`Version ${v.version} is active.`);
        await renderWorkflow(view, key, params);
        view.querySelector("h1")?.focus();
      } }, `Activate v${v.version}`)),
    ),
  );
  const runRows = runs.results.map((r) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `${link(key)}/runs/${encodeURIComponent(r.id)}` }, when(r.createdAt))),
      h("td", {}, `${r.recipient.type}/${r.recipient.id}`),
      h("td", {}, `v${r.version}`),
      h("td", {}, statusBadge(r.status)),
      h("td", {}, when(r.finishedAt)),
    ),
  );
  const filter = h("form", { class: "filters", role: "search", "aria-label": "Filter runs" }, field("Run status", select("status", [["", "Any status"], ...RUN_STATUSES.map((s) => [s, s])], status)), h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter runs")));
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `${link(key)}${query(values(filter))}`;
  });
  const section = (id, title, ...body) => h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...body);
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/workflows" }, "← Workflows")),
    h("h1", { tabindex: -1 }, w.name),
    h("p", { class: "muted", id: "workflow-version" }, h("code", {}, w.key), ` · active version v${w.version}${w.description ? ` · ${w.description}` : ""}`),
    section("test-h", "Test run", triggerForm(key)),
    section("runs-h", "Runs", filter, runRows.length ? table("Runs", ["Started", "Recipient", "Version", "Status", "Finished"], runRows) : h("p", { class: "empty" }, "No runs yet.")),
    section("edit-h", "Definition", renderEditor(view, w)),
    section("versions-h", "Versions", table("Versions", ["Version", "Name", "Steps", "Created", ""], versionRows)),
  );
}

/** Starts one run for one recipient, then opens it. */
function triggerForm(key) {
  const form = h(
    "form",
    { class: "stack", novalidate: true, id: "trigger-form" },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Recipient type", h("input", { name: "type", value: "customer" })),
    field("Recipient id", h("input", { name: "id" })),
    field("Recipient email", h("input", { name: "email", type: "email" })),
    field("Recipient phone", h("input", { name: "phone", type: "tel" })),
    field("Data (JSON)", h("textarea", { name: "data", rows: 3, spellcheck: false, value: "{}" })),
    field("Cancellation key", h("input", { name: "cancellationKey" }), "Runs started with a key can be cancelled together."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Start a test run")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const { type, id, email, phone, data, cancellationKey } = values(form);
    let parsed;
    try {
      parsed = data ? JSON.parse(data) : {};
    } catch {
      return showErrors(form, { message: "The data is not JSON.", errors: [{ field: "data", message: "Must be a JSON object." }] });
    }
    if (!id && !email && !phone) return showErrors(form, { message: "Who is the run for?", errors: [{ field: "id", message: "Give a recipient id, email or phone." }] });
    try {
      const started = await api("POST", `/api/workflows/${encodeURIComponent(key)}/trigger`, { recipients: [{ type, id, email, phone }], data: parsed, cancellationKey });
      announce(`Run started on version ${started.version}.`);
      location.hash = `${link(key)}/runs/${encodeURIComponent(started.runs[0].id)}`;
    } catch (err) {
      // The API names recipients.0.id and the like; the form's fields are the recipient's own.
      showErrors(form, { ...err, message: err.message, errors: (err.errors ?? []).map((x) => ({ ...x, field: x.field.replace(/^recipients\.0\./, "") })) });
    }
  });
  return form;
}
