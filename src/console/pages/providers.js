// Provider configs: list them with the webhook URL each one's provider must call, and add one.
// The form asks for exactly the credential and settings fields of the chosen provider, as the API
// lists them from its validation schemas (GET /api/providers/kinds). Credentials are write-only:
// typed into password fields, sent once, sealed by the API and never shown again.
import { api } from "../api.js";
import { announce, field, h, select, showErrors, table } from "../dom.js";

const SCALAR = new Set(["string", "number", "integer", "boolean"]);

/** One control per field, named `credentials.<name>` or `settings.<name>` like the API's errors. */
function control(group, f) {
  const name = `${group}.${f.name}`;
  if (f.type === "boolean") return h("label", { class: "check" }, h("input", { type: "checkbox", name, checked: f.default === true }), ` ${f.name}`);
  const label = `${f.name}${f.required ? " (required)" : ""}`;
  if (f.enum) return field(label, select(name, [["", "—"], ...f.enum.map((o) => [String(o), String(o)])], ""));
  const attrs = { name, spellcheck: false, autocomplete: "off" };
  if (f.type === "number" || f.type === "integer") Object.assign(attrs, { type: "number", min: f.minimum, max: f.maximum, step: f.type === "integer" ? 1 : "any", placeholder: f.default ?? "" });
  else if (group === "credentials" && !f.multiline) Object.assign(attrs, { type: "password", autocomplete: "new-password" });
  else if (f.format === "email") attrs.type = "email";
  else if (f.format === "uri") attrs.type = "url";
  const hint = f.pattern && !f.multiline ? `Format: ${f.pattern}` : f.default !== undefined ? `Default: ${f.default}` : undefined;
  return field(label, f.multiline ? h("textarea", { ...attrs, rows: 4 }) : h("input", attrs), hint);
}

function fieldsPart(kind) {
  const settings = kind.settings.filter((f) => SCALAR.has(f.type) || f.enum);
  const nested = kind.settings.filter((f) => !settings.includes(f)).map((f) => f.name);
  // Provider-specific and required fields first; the shared tuning knobs after.
  settings.sort((a, b) => Number(b.required) - Number(a.required));
  return h(
    "div",
    { id: "provider-fields" },
    h("fieldset", {}, h("legend", {}, "Credentials (write-only)"),
      kind.credentials.length ? h("p", { class: "hint" }, "Sent once and stored encrypted; never shown again.") : h("p", { class: "hint" }, `${kind.kind} needs no credentials.`),
      ...kind.credentials.map((f) => control("credentials", f))),
    h("fieldset", {}, h("legend", {}, "Settings"), ...settings.map((f) => control("settings", f)),
      nested.length ? h("p", { class: "hint" }, `Also settable through the API: ${nested.join(", ")}.`) : null),
  );
}

/** The group's non-empty values, typed as the field list says. */
function valuesOf(form, group, fields) {
  const out = {};
  for (const f of fields) {
    const el = form.elements[`${group}.${f.name}`];
    if (!el) continue;
    if (f.type === "boolean") {
      if (el.checked !== (f.default === true)) out[f.name] = el.checked;
      continue;
    }
    const v = el.value.trim();
    if (v !== "") out[f.name] = f.type === "number" || f.type === "integer" ? Number(v) : v;
  }
  return out;
}

export async function render(view) {
  const [{ results }, { results: kinds }] = await Promise.all([api("GET", "/api/providers"), api("GET", "/api/providers/kinds")]);
  const rows = results.map((p) =>
    h(
      "tr",
      {},
      h("td", {}, p.channel),
      h("td", {}, p.provider),
      h("td", {}, String(p.priority)),
      h("td", {}, p.enabled ? "enabled" : "disabled"),
      h("td", {}, p.webhookUrl ? h("code", { class: "url" }, p.webhookUrl) : "—"),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `${p.enabled ? "Disable" : "Enable"} ${p.provider} (${p.channel}, priority ${p.priority})`, onclick: async () => {
        await api("PATCH", `/api/providers/${encodeURIComponent(p.id)}`, { enabled: !p.enabled });
        await render(view);
        announce(`${p.provider} ${p.enabled ? "disabled" : "enabled"}.`);
      } }, p.enabled ? "Disable" : "Enable")),
    ),
  );
  const channels = [...new Set(kinds.flatMap((k) => k.channels))];
  const channel = select("channel", channels, "email");
  const provider = select("provider", [], "");
  const slot = h("div");
  const kindOf = () => kinds.find((k) => k.kind === provider.value);
  const showKinds = () => {
    const serving = kinds.filter((k) => k.channels.includes(channel.value)).map((k) => k.kind);
    const keep = serving.includes(provider.value) ? provider.value : serving.includes("sandbox") ? "sandbox" : serving[0];
    provider.replaceChildren(...serving.map((k) => h("option", { value: k, selected: k === keep }, k)));
    slot.replaceChildren(fieldsPart(kindOf()));
  };
  channel.addEventListener("change", showKinds);
  provider.addEventListener("change", () => slot.replaceChildren(fieldsPart(kindOf())));
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Channel", channel),
    field("Provider", provider),
    field("Priority", h("input", { name: "priority", type: "number", min: 0, max: 1000, value: 1 }), "Lower is tried first."),
    slot,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add provider")),
  );
  showKinds();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const kind = kindOf();
    try {
      const body = {
        channel: channel.value,
        provider: provider.value,
        priority: Number(form.elements.priority.value || 1),
        credentials: valuesOf(form, "credentials", kind.credentials),
        settings: valuesOf(form, "settings", kind.settings),
      };
      const created = await api("POST", "/api/providers", body);
      await render(view);
      announce(`Added ${created.provider} for ${created.channel}.`);
    } catch (err) {
      showErrors(form, err);
    }
  });
  view.replaceChildren(
    h("h1", {}, "Providers"),
    h("p", { class: "muted" }, "Each provider is tried in priority order for its channel. Give its webhook URL to the provider so delivery receipts reach Herald."),
    results.length ? table("Provider configs", ["Channel", "Provider", "Priority", "State", "Webhook URL", ""], rows) : h("p", { class: "empty" }, "No provider yet."),
    h("h2", {}, "Add a provider"),
    form,
  );
}
