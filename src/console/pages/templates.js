// The template manager (seed §4.2, §9): list every template with its locales, create one (or a
// new locale of one), edit it — each content change is a new immutable version — switch the
// active version, and preview with variables, including an SMS's segment count.
import { api } from "../api.js";
import { announce, debounce, field, h, select, showErrors, table, values } from "../dom.js";
import { contentFrame } from "./detail.js";
import { CHANNELS } from "./history.js";
import { variablesEditor } from "../variables.js";

const CONTENT = [
  ["subjectTemplate", "Subject", "email"],
  ["bodyTemplate", "Body", "all"],
  ["htmlTemplate", "HTML part", "email"],
  ["textTemplate", "Text part", "email"],
];

/** What a preview answer looks like on the page; SMS shows what it costs. */
export function previewView(p) {
  return h(
    "div",
    { class: "preview-body" },
    p.subject ? h("p", {}, h("strong", {}, "Subject: "), p.subject) : null,
    p.html ? contentFrame("Email preview (sandboxed)", p.html) : h("pre", { class: "message", "data-testid": "preview-text" }, p.body ?? p.text ?? ""),
    p.sms
      ? h("p", { class: "segments", id: "sms-segments" }, `${p.sms.segments} SMS segment${p.sms.segments === 1 ? "" : "s"} · ${p.sms.characters} characters · ${p.sms.encoding}`)
      : null,
    ...(p.warnings ?? []).map((w) => h("p", { class: "warning" }, w)),
  );
}

export async function render(view, [id]) {
  if (id === "new") return renderNew(view);
  if (id) return renderEdit(view, id);
  const { results } = await api("GET", "/api/communication-templates");
  results.sort((a, b) => a.code.localeCompare(b.code) || a.channel.localeCompare(b.channel) || a.locale.localeCompare(b.locale));
  const rows = results.map((t) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/templates/${encodeURIComponent(t.id)}` }, t.name)),
      h("td", {}, h("code", {}, t.code)),
      h("td", {}, t.channel),
      h("td", {}, t.locale),
      h("td", {}, t.type),
      h("td", {}, t.isSystem ? "system" : `v${t.version}`),
      h("td", {}, t.isActive ? "active" : "inactive"),
    ),
  );
  view.replaceChildren(
    h("div", { class: "page-head" }, h("h1", {}, "Templates"), h("a", { href: "#/templates/new", class: "button" }, "New template")),
    h("p", { class: "muted" }, "A template is one code in one channel and locale; add a locale by creating the same code in another locale. System templates are read-only: create your own with the same code, channel and locale to override one."),
    table("Templates", ["Name", "Code", "Channel", "Locale", "Type", "Version", "State"], rows),
  );
}

function contentFields(channel, t = {}) {
  return CONTENT.filter(([, , only]) => only === "all" || only === channel).map(([name, label]) =>
    field(label, h(name === "subjectTemplate" ? "input" : "textarea", { name, rows: name === "subjectTemplate" ? undefined : 6, spellcheck: false, value: t[name] ?? "" })),
  );
}

function renderNew(view) {
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const channel = select("channel", CHANNELS, params.get("channel") ?? "email");
  const parts = h("div", {}, ...contentFields(channel.value));
  channel.addEventListener("change", () => parts.replaceChildren(...contentFields(channel.value)));
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Name", h("input", { name: "name", required: true })),
    field("Code", h("input", { name: "code", required: true, value: params.get("code") ?? "", spellcheck: false }), "Lowercase: a-z, 0-9, _ . -"),
    field("Channel", channel),
    field("Type", h("input", { name: "type", required: true, value: params.get("type") ?? "general_notification" })),
    field("Locale", h("input", { name: "locale", value: "en", size: 8 })),
    field("Variables", h("input", { name: "availableVariables", placeholder: "customerName, amount" }), "Comma-separated; using one not listed only warns."),
    parts,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create template"), h("a", { href: "#/templates", class: "button secondary" }, "Cancel")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    if (v.availableVariables !== undefined) v.availableVariables = v.availableVariables.split(",").map((s) => s.trim()).filter(Boolean);
    try {
      const created = await api("POST", "/api/communication-templates", v);
      announce(created.warnings?.length ? `Created, with warnings: ${created.warnings.join("; ")}` : "Template created.", { carry: true });
      location.hash = `#/templates/${encodeURIComponent(created.id)}`;
    } catch (err) {
      showErrors(form, err);
    }
  });
  view.replaceChildren(h("p", {}, h("a", { href: "#/templates" }, "← Templates")), h("h1", {}, "New template"), form);
}

async function renderEdit(view, id) {
  const path = `/api/communication-templates/${encodeURIComponent(id)}`;
  const [t, { results: versions }] = await Promise.all([api("GET", path), api("GET", `${path}/versions`)]);
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Name", h("input", { name: "name", value: t.name })),
    field("Type", h("input", { name: "type", value: t.type })),
    field("Variables", h("input", { name: "availableVariables", value: (t.availableVariables ?? []).join(", ") }), "Comma-separated."),
    ...contentFields(t.channel, t),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "isActive", checked: t.isActive }), " Active"),
    h("p", { class: "warning", id: "template-warnings", hidden: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save as a new version")),
  );
  if (t.isSystem) for (const el of form.elements) el.disabled = true;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { name: form.elements.name.value.trim(), type: form.elements.type.value.trim(), isActive: form.elements.isActive.checked };
    body.availableVariables = form.elements.availableVariables.value.split(",").map((s) => s.trim()).filter(Boolean);
    for (const [name] of CONTENT) if (form.elements[name]) body[name] = form.elements[name].value || null;
    try {
      const saved = await api("PATCH", path, body);
      announce(`Saved. Active version: v${saved.version}.`);
      await renderEdit(view, id);
      const w = view.querySelector("#template-warnings");
      if (saved.warnings?.length) Object.assign(w, { hidden: false, textContent: saved.warnings.join(" ") });
    } catch (err) {
      showErrors(form, err);
    }
  });

  const versionRows = versions.map((v) =>
    h(
      "tr",
      {},
      h("td", {}, `v${v.version}`),
      h("td", {}, v.createdAt ? new Date(v.createdAt).toLocaleString() : "—"),
      h("td", {}, (v.subjectTemplate ?? v.bodyTemplate ?? "").slice(0, 60)),
      h(
        "td",
        {},
        v.active
          ? "active"
          : h("button", { type: "button", class: "secondary", onclick: async () => {
              await api("POST", `${path}/versions/${v.version}/activate`);
              announce(`Version ${v.version} is active.`);
              renderEdit(view, id);
            } }, `Activate v${v.version}`),
      ),
    ),
  );

  const locale = h("input", { name: "locale", value: t.locale, size: 8 });
  const output = h("div", { class: "preview", id: "template-preview", "aria-live": "polite" });
  const refresh = debounce(async () => {
    try {
      output.replaceChildren(previewView(await api("POST", `${path}/preview`, { variables: variables.value(), locale: locale.value.trim() || undefined })));
    } catch (err) {
      output.replaceChildren(h("p", { class: "field-error" }, err.message));
    }
  }, 250);
  const variables = variablesEditor(t.availableVariables ?? [], refresh);
  locale.addEventListener("input", refresh);
  refresh();
  const testSend = testSendForm(t, variables, locale);

  const newLocale = `#/templates/new?${new URLSearchParams({ code: t.code, channel: t.channel, type: t.type })}`;
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/templates" }, "← Templates")),
    h("h1", {}, t.name),
    h("p", { class: "muted" }, h("code", {}, t.code), ` · ${t.channel} · ${t.locale} · `, t.isSystem ? "system template (read-only)" : `active version v${t.version}`, " · ", h("a", { href: newLocale }, "Add a locale")),
    h("div", { class: "two-col" },
      h("section", { "aria-labelledby": "edit-h" }, h("h2", { id: "edit-h" }, "Edit"), form),
      h("section", { "aria-labelledby": "preview-h" }, h("h2", { id: "preview-h" }, "Preview"), variables.element, field("Locale", locale), output, h("h3", {}, "Send a test"), testSend)),
    h("h2", {}, "Versions"),
    table("Versions of this template", ["Version", "Created", "Starts with", ""], versionRows),
  );
}

/** Sends this template, with the preview's variables and locale, to one contact (or recipient). */
function testSendForm(t, variables, locale) {
  const byRecipient = t.channel === "push" || t.channel === "in_app";
  const form = h(
    "form",
    { class: "stack", id: "test-send", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    byRecipient
      ? field("Test recipient id", h("input", { name: "recipientId", required: true }), `A ${t.channel === "push" ? "recipient with a registered device" : "recipient's inbox"} (type customer).`)
      : field("Test contact", h("input", { name: "recipientContact", required: true, spellcheck: false }), t.channel === "email" ? "An email address." : "An E.164 phone number or the channel's id."),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Send test")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    const body = { channel: t.channel, templateId: t.id, templateVariables: variables.value(), type: t.type, ...v };
    if (locale.value.trim()) body.locale = locale.value.trim();
    try {
      const sent = await api("POST", "/api/communications/send", body);
      announce(`Test sent: ${sent.status ?? "queued"}.`, { carry: true });
      location.hash = `#/communications/${encodeURIComponent(sent.id)}`;
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}
