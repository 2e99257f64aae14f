// API keys (issue 21): the tenant's keys with their scopes and use, minting one with scope
// checkboxes (only the scopes the signed-in key may grant), rotating and revoking. A new secret is
// shown once, in a panel the user dismisses; it is never stored by the page.
import { api, session } from "../api.js";
import { announce, field, h, oneTimeSecret, showErrors, table, when } from "../dom.js";

function keyRow(k, view) {
  const state = k.revokedAt ? "revoked" : k.expiresAt && Date.parse(k.expiresAt) <= Date.now() ? "expired" : "active";
  const label = `${k.name} (${k.prefix}…)`;
  const actions = state === "active"
    ? [
        h("button", { type: "button", class: "secondary", "aria-label": `Rotate ${label}`, onclick: () => rotate(view, k) }, "Rotate"),
        h("button", { type: "button", class: "secondary", "aria-label": `Revoke ${label}`, onclick: () => revoke(view, k) }, "Revoke"),
      ]
    : [];
  return h(
    "tr",
    { "data-key-id": k.id },
    h("td", {}, k.name, k.current ? h("span", { class: "badge" }, " this session's key") : null),
    h("td", {}, h("code", {}, `${k.prefix}…`)),
    h("td", {}, k.scopes.join(", ")),
    h("td", {}, when(k.createdAt)),
    h("td", {}, k.lastUsedAt ? when(k.lastUsedAt) : "never"),
    h("td", {}, k.expiresAt ? when(k.expiresAt) : "—"),
    h("td", {}, state),
    h("td", { class: "row-actions" }, ...actions),
  );
}

async function rotate(view, k) {
  if (!confirm(`Rotate "${k.name}"? The old secret keeps working for 24 hours.`)) return;
  try {
    const rotated = await api("POST", `/api/keys/${encodeURIComponent(k.id)}/rotate`, { overlapHours: 24 });
    await render(view, [], oneTimeSecret(`New secret for "${k.name}"`, rotated.apiKey, `The old secret works until ${when(rotated.replaces.expiresAt)}.`));
    announce(`Rotated ${k.name}.`);
  } catch (err) {
    announce(err.message);
  }
}

async function revoke(view, k) {
  const self = k.current;
  if (!confirm(self ? `Revoke "${k.name}"? It is the key this console signed in with: you will be signed out.` : `Revoke "${k.name}"? Calls with it stop working at once.`)) return;
  try {
    const answer = await api("DELETE", `/api/keys/${encodeURIComponent(k.id)}`);
    if (answer.revokedCallingKey) {
      session.clear();
      location.hash = "";
      location.reload();
      return;
    }
    await render(view);
    announce(`Revoked ${k.name}.`);
  } catch (err) {
    announce(err.message);
  }
}

function mintForm(view, grantable) {
  const boxes = grantable.map((s) =>
    h("label", { class: "check scope" }, h("input", { type: "checkbox", name: "scopes", value: s }), " ", s === "*" ? "* (full access)" : s),
  );
  const form = h(
    "form",
    { class: "stack", id: "mint-form", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Name", h("input", { name: "name", required: true, placeholder: "analytics" })),
    h("fieldset", { class: "scopes" }, h("legend", {}, "Scopes"), h("p", { class: "hint" }, "Give a key only what its holder needs. You can grant only scopes your own key holds."), ...boxes),
    field("Expires after (hours)", h("input", { name: "expiresInHours", type: "number", min: 1, step: 1, placeholder: "never" }), "Leave empty for a key that does not expire."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create key")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((c) => c.value);
    const body = { name: form.elements.name.value.trim(), scopes };
    const hours = form.elements.expiresInHours.value.trim();
    if (hours) body.expiresInHours = Number(hours);
    if (!scopes.length) return showErrors(form, { message: "Choose at least one scope.", errors: [] });
    try {
      const minted = await api("POST", "/api/keys", body);
      await render(view, [], oneTimeSecret(`Secret of "${minted.name}"`, minted.apiKey));
      announce(`Created ${minted.name}.`);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

export async function render(view, _params, panel) {
  const { results, grantableScopes } = await api("GET", "/api/keys");
  view.replaceChildren(
    h("h1", {}, "API keys"),
    h("p", { class: "muted" }, "Keys authenticate calls to the API and to this console. Rotating gives a new secret and keeps the old one for a day, so you can swap it without downtime."),
    panel ?? null,
    table("API keys", ["Name", "Prefix", "Scopes", "Created", "Last used", "Expires", "State", "Actions"], results.map((k) => keyRow(k, view))),
    h("h2", {}, "Create a key"),
    mintForm(view, grantableScopes),
  );
  panel?.querySelector("h2")?.setAttribute("tabindex", "-1");
  panel?.querySelector("h2")?.focus();
}
