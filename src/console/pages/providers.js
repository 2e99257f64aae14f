// Provider configs: list them with the webhook URL each one's provider must call, and add one.
// Credentials are write-only: typed into a password-style field, sent once, sealed by the API and
// never shown again (the API itself only ever answers "[encrypted]").
import { api } from "../api.js";
import { announce, field, h, select, showErrors, table } from "../dom.js";
import { CHANNELS } from "./history.js";

const KINDS = ["sandbox", "sendgrid", "mailgun", "ses", "postmark", "resend", "twilio", "vonage", "meta_whatsapp", "meta_messenger", "slack", "teams", "discord", "telegram"];

function objectFrom(form, name) {
  const text = form.elements[name].value.trim();
  if (!text) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw { message: "Check the JSON.", errors: [{ field: name, message: "must be a JSON object" }] };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw { message: "Check the JSON.", errors: [{ field: name, message: "must be a JSON object" }] };
  return value;
}

export async function render(view) {
  const { results } = await api("GET", "/api/providers");
  const rows = results.map((p) =>
    h(
      "tr",
      {},
      h("td", {}, p.channel),
      h("td", {}, p.provider),
      h("td", {}, String(p.priority)),
      h("td", {}, p.enabled ? "enabled" : "disabled"),
      h("td", {}, p.webhookUrl ? h("code", { class: "url" }, p.webhookUrl) : "—"),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: async () => {
        await api("PATCH", `/api/providers/${encodeURIComponent(p.id)}`, { enabled: !p.enabled });
        announce(`${p.provider} ${p.enabled ? "disabled" : "enabled"}.`);
        render(view);
      } }, p.enabled ? "Disable" : "Enable")),
    ),
  );
  // A password input keeps the secret off screen; it holds JSON such as {"apiKey": "…"}.
  const credentials = h("input", { name: "credentials", type: "password", autocomplete: "new-password", spellcheck: false, placeholder: '{"apiKey": "…"}' });
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Channel", select("channel", CHANNELS.filter((c) => c !== "in_app"), "email")),
    field("Provider", select("provider", KINDS, "sandbox")),
    field("Priority", h("input", { name: "priority", type: "number", min: 0, max: 1000, value: 1 }), "Lower is tried first."),
    field("Credentials (JSON, write-only)", credentials, "Sent once and stored encrypted; never shown again. The sandbox needs none."),
    field("Settings (JSON)", h("textarea", { name: "settings", rows: 3, spellcheck: false, placeholder: '{"from": "billing@example.com"}' })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add provider")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = {
        channel: form.elements.channel.value,
        provider: form.elements.provider.value,
        priority: Number(form.elements.priority.value || 1),
        credentials: objectFrom(form, "credentials"),
        settings: objectFrom(form, "settings"),
      };
      const created = await api("POST", "/api/providers", body);
      credentials.value = "";
      announce(`Added ${created.provider} for ${created.channel}.`);
      await render(view);
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
