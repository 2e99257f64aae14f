// The send dialog (seed §9.1): channel, recipient, then either a template — previewed live through
// the templates preview endpoint as the variables change — or free text.
import { api, query } from "../api.js";
import { announce, debounce, field, h, select, showErrors, values } from "../dom.js";
import { contentFrame } from "./detail.js";
import { CHANNELS } from "./history.js";
import { previewView } from "./templates.js";
import { variablesEditor } from "../variables.js";

const CONTACT_HINT = {
  email: "An email address.",
  sms: "An E.164 phone number, e.g. +14155550123.",
  whatsapp: "An E.164 phone number, e.g. +14155550123.",
  messenger: "A Messenger page-scoped id (digits).",
  push: "Leave empty: a push goes to the recipient's registered devices (recipient type and id).",
  in_app: "Leave empty: the inbox is addressed by recipient type and id.",
};
/** Channels addressed by the recipient itself rather than a contact. */
const BY_RECIPIENT = new Set(["push", "in_app"]);

export async function render(view) {
  const channel = select("channel", CHANNELS, "email");
  const contact = h("input", { name: "recipientContact", autocomplete: "off", spellcheck: false });
  const contactField = field("Recipient contact", contact, CONTACT_HINT.email);
  const mode = h(
    "fieldset",
    { class: "mode" },
    h("legend", {}, "Content"),
    h("label", {}, h("input", { type: "radio", name: "mode", value: "text", checked: true }), " Free text"),
    h("label", {}, h("input", { type: "radio", name: "mode", value: "template" }), " Template"),
  );
  const subject = h("input", { name: "subject" });
  const content = h("textarea", { name: "content", rows: 6 });
  const textPart = h("div", { class: "part" }, field("Subject (email) or title (push)", subject), field("Message", content));
  const template = h("select", { name: "templateId" });
  let templates = [];
  const variables = variablesEditor([], () => refreshPreview());
  const clickUrl = h("input", { name: "metadata.push.clickUrl", type: "url", placeholder: "https://app.example.com/invoices/42", spellcheck: false });
  const pushPart = h("div", { class: "part", hidden: true }, field("Opens (push)", clickUrl, "The https URL a tap on the notification opens."));
  const locale = h("input", { name: "locale", placeholder: "en", size: 8 });
  const preview = h("div", { class: "preview", id: "send-preview", "aria-live": "polite" });
  const templatePart = h("div", { class: "part", hidden: true }, field("Template", template), variables.element, field("Locale", locale), h("h2", {}, "Preview"), preview);
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Channel", channel),
    contactField,
    h("details", { id: "recipient-details" }, h("summary", {}, "Recipient and classification"),
      field("Recipient type", h("input", { name: "recipientType", placeholder: "customer" })),
      field("Recipient id", h("input", { name: "recipientId" }), "With no contact, the recipient's preferred contact is used."),
      field("Type", h("input", { name: "type", placeholder: "general_notification" }))),
    mode,
    textPart,
    templatePart,
    pushPart,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send"), h("a", { href: "#/history", class: "button secondary" }, "Cancel")),
  );

  const isTemplate = () => form.querySelector('input[name="mode"]:checked').value === "template";

  async function loadTemplates() {
    const { results } = await api("GET", `/api/communication-templates${query({ channel: channel.value, isActive: "true" })}`);
    templates = results;
    template.replaceChildren(...(results.length ? results.map((t) => h("option", { value: t.id }, `${t.name} — ${t.code} (${t.locale}${t.isSystem ? ", system" : ""})`)) : [h("option", { value: "" }, "No template for this channel")]));
    showVariables();
  }

  const showVariables = () => {
    variables.setNames(templates.find((t) => t.id === template.value)?.availableVariables ?? []);
    refreshPreview();
  };

  const refreshPreview = debounce(async () => {
    if (!isTemplate() || !template.value) return preview.replaceChildren();
    const vars = variables.value();
    try {
      const p = await api("POST", `/api/communication-templates/${encodeURIComponent(template.value)}/preview`, { variables: vars, ...(locale.value.trim() ? { locale: locale.value.trim() } : {}) });
      preview.replaceChildren(previewView(p));
    } catch (e) {
      preview.replaceChildren(h("p", { class: "field-error" }, e.message));
    }
  }, 250);

  channel.addEventListener("change", () => {
    contactField.querySelector(".hint").textContent = CONTACT_HINT[channel.value];
    contactField.hidden = BY_RECIPIENT.has(channel.value);
    pushPart.hidden = channel.value !== "push";
    // Push and the inbox are addressed by recipient: show where to type it.
    if (BY_RECIPIENT.has(channel.value)) form.querySelector("#recipient-details").open = true;
    if (isTemplate()) loadTemplates();
  });
  mode.addEventListener("change", () => {
    textPart.hidden = isTemplate();
    templatePart.hidden = !isTemplate();
    if (isTemplate()) loadTemplates();
  });
  template.addEventListener("change", showVariables);
  locale.addEventListener("change", refreshPreview);
  locale.addEventListener("input", refreshPreview);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    const body = { channel: v.channel };
    for (const k of ["recipientContact", "recipientType", "recipientId", "type"]) if (v[k]) body[k] = v[k];
    if (BY_RECIPIENT.has(body.channel)) delete body.recipientContact;
    if (body.channel === "push" && v["metadata.push.clickUrl"]) body.metadata = { push: { clickUrl: v["metadata.push.clickUrl"] } };
    if (isTemplate()) {
      body.templateId = v.templateId;
      if (v.locale) body.locale = v.locale;
      body.templateVariables = variables.value();
    } else {
      if (v.subject) body.subject = v.subject;
      if (v.content) body.content = v.content;
    }
    try {
      const sent = await api("POST", "/api/communications/send", body);
      const id = sent.id ?? sent.results?.[0]?.id;
      announce(`Accepted: ${sent.status ?? "queued"}.`, { carry: true });
      location.hash = `#/communications/${encodeURIComponent(id)}`;
    } catch (err) {
      showErrors(form, err);
    }
  });

  view.replaceChildren(h("h1", {}, "Send a message"), form);
}

