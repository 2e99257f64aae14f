// Tenant webhooks: endpoints that receive Herald's events (signed, Standard Webhooks). The list
// page creates an endpoint (its signing secret shown once) and enables, disables or deletes one;
// an endpoint's page edits it and shows its recent deliveries, each of which can be replayed.
import { api, openApi } from "../api.js";
import { announce, field, h, oneTimeSecret, showErrors, statusBadge, table, when } from "../dom.js";

/** The event types an endpoint may subscribe to, as the API validates them (its OpenAPI schema). */
async function eventTypes() {
  const doc = await openApi();
  return doc.components.schemas.CreateWebhookEndpoint.properties.eventTypes.items.enum;
}

function eventBoxes(types, chosen) {
  return h(
    "fieldset",
    { class: "scopes" },
    h("legend", {}, "Event types"),
    h("p", { class: "hint" }, "* is every event, including ones added later."),
    ...types.map((t) => h("label", { class: "check scope" }, h("input", { type: "checkbox", name: "eventTypes", value: t, checked: chosen.includes(t) }), " ", t)),
  );
}

const checked = (form) => [...form.querySelectorAll('input[name="eventTypes"]:checked')].map((c) => c.value);

function endpointForm(types, e, submitLabel, onSubmit) {
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("URL", h("input", { name: "url", type: "url", required: true, value: e?.url ?? "", placeholder: "https://hooks.example.com/herald", spellcheck: false })),
    field("Description", h("input", { name: "description", value: e?.description ?? "" })),
    eventBoxes(types, e?.eventTypes ?? ["*"]),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "enabled", checked: e?.enabled ?? true }), " Enabled"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel)),
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { url: form.elements.url.value.trim(), eventTypes: checked(form), enabled: form.elements.enabled.checked };
    const description = form.elements.description.value.trim();
    if (description) body.description = description;
    else if (e?.description) body.description = null;
    if (!body.eventTypes.length) return showErrors(form, { message: "Choose at least one event type.", errors: [] });
    try {
      await onSubmit(body);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

async function renderList(view, panel) {
  const [{ results }, types] = await Promise.all([api("GET", "/api/webhooks"), eventTypes()]);
  const rows = results.map((e) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/webhooks/${encodeURIComponent(e.id)}` }, h("code", { class: "url" }, e.url))),
      h("td", {}, e.description ?? "—"),
      h("td", {}, e.eventTypes.join(", ")),
      h("td", {}, e.enabled ? "enabled" : "disabled"),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `${e.enabled ? "Disable" : "Enable"} ${e.url}`, onclick: async () => {
          await api("PATCH", `/api/webhooks/${encodeURIComponent(e.id)}`, { enabled: !e.enabled });
          await renderList(view);
          announce(`${e.url} ${e.enabled ? "disabled" : "enabled"}.`);
        } }, e.enabled ? "Disable" : "Enable"),
        h("button", { type: "button", class: "secondary", "aria-label": `Delete ${e.url}`, onclick: async () => {
          if (!confirm(`Delete the endpoint ${e.url}? Its deliveries stop.`)) return;
          await api("DELETE", `/api/webhooks/${encodeURIComponent(e.id)}`);
          await renderList(view);
          announce(`Deleted ${e.url}.`);
        } }, "Delete")),
    ),
  );
  const form = endpointForm(types, null, "Add endpoint", async (body) => {
    const created = await api("POST", "/api/webhooks", body);
    await renderList(view, oneTimeSecret("Signing secret", created.secret, "Verify each delivery's webhook-signature header with it (Standard Webhooks)."));
    announce(`Added ${created.url}.`);
  });
  view.replaceChildren(
    h("h1", {}, "Webhooks"),
    h("p", { class: "muted" }, "Herald posts status changes and inbound messages to these URLs, signed with each endpoint's secret, and retries failures with backoff."),
    panel ?? null,
    results.length ? table("Webhook endpoints", ["URL", "Description", "Events", "State", "Actions"], rows) : h("p", { class: "empty", id: "no-webhooks" }, "No endpoint yet."),
    h("h2", {}, "Add an endpoint"),
    form,
  );
}

async function renderEndpoint(view, id) {
  const path = `/api/webhooks/${encodeURIComponent(id)}`;
  const [e, { results: deliveries }, types] = await Promise.all([api("GET", path), api("GET", `${path}/deliveries?limit=50`), eventTypes()]);
  const form = endpointForm(types, e, "Save", async (body) => {
    await api("PATCH", path, body);
    await renderEndpoint(view, id);
    announce("Endpoint saved.");
  });
  const rows = deliveries.map((d) =>
    h(
      "tr",
      { "data-delivery-id": d.id },
      h("td", {}, when(d.createdAt)),
      h("td", {}, d.eventType),
      h("td", {}, statusBadge(d.status)),
      h("td", {}, String(d.attempts)),
      h("td", {}, d.lastStatusCode ? String(d.lastStatusCode) : "—"),
      h("td", {}, d.lastError ?? "—"),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Replay ${d.eventType} of ${when(d.createdAt)}`, onclick: async () => {
        await api("POST", `${path}/deliveries/${encodeURIComponent(d.id)}/replay`);
        await renderEndpoint(view, id);
        announce(`Replaying ${d.eventType}.`);
      } }, "Replay")),
    ),
  );
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/webhooks" }, "← Webhooks")),
    h("h1", {}, e.description || "Webhook endpoint"),
    h("p", { class: "muted" }, h("code", { class: "url" }, e.url)),
    h("h2", {}, "Edit"),
    form,
    h("div", { class: "page-head" }, h("h2", {}, "Recent deliveries"), h("button", { type: "button", class: "secondary", onclick: () => renderEndpoint(view, id) }, "Refresh")),
    deliveries.length ? table("Deliveries, newest first", ["Created", "Event", "Status", "Attempts", "Last HTTP status", "Last error", ""], rows) : h("p", { class: "empty", id: "no-deliveries" }, "Nothing delivered yet."),
  );
}

export const render = (view, [id]) => (id ? renderEndpoint(view, id) : renderList(view));
