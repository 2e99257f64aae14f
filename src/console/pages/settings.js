// Tenant settings (GET/PATCH /api/settings) as a form: tracking, retention, contact encryption,
// routing per channel, receipt windows per message type, the preference policy (time zone, quiet
// hours, required and marketing types), conversations (help text, keywords, reply domain) and the
// branding the hosted preference center shows (name, logo, colour).
// Each control is named by its API field ("preferences.timezone"), so errors land beside it.
import { api } from "../api.js";
import { announce, field, h, select, showErrors } from "../dom.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const input = (name, value, attrs = {}) => h("input", { name, value: value ?? "", ...attrs });

/** "stop = contact.stopped" lines ⇄ [{ keyword, event }]. */
const keywordsText = (keywords) => keywords.map((k) => `${k.keyword} = ${k.event}`).join("\n");
const keywordsOf = (text) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [keyword, event] = l.split("=").map((s) => s?.trim());
      return { keyword, event: event ?? "" };
    });

function formFor(s) {
  const fieldset = (legend, ...children) => h("fieldset", {}, h("legend", {}, legend), ...children);
  return h(
    "form",
    { class: "stack", id: "settings-form", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    fieldset(
      "Delivery",
      field("Open and click tracking", select("tracking", [["provider", "By the provider"], ["herald", "By Herald (own pixel and links)"], ["off", "Off"]], s.tracking)),
      field("Keep content and contacts for (days)", input("retentionDays", s.retentionDays ?? "", { type: "number", min: 1, max: 3650 }), "Leave empty to keep them; statistics are always kept."),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "encryptContacts", checked: s.encryptContacts }), " Encrypt recipients' stored contacts (from their next write)"),
      ...Object.entries(s.routing).map(([ch, mode]) => field(`Routing for ${ch}`, select(`routing.${ch}`, [["priority", "Priority order (failover)"], ["weighted", "Weighted split"]], mode))),
    ),
    fieldset(
      "Receipt windows",
      h("p", { class: "hint" }, "Seconds to wait for a delivery receipt before trying the next provider, per message type; 0 turns it off."),
      ...Object.entries(s.receiptWindows).map(([type, seconds]) => field(`Window for ${type} (seconds)`, input(`receiptWindows.${type}`, seconds, { type: "number", min: 0, max: 43200 }))),
    ),
    fieldset(
      "Preference policy",
      field("Time zone", input("preferences.timezone", s.preferences.timezone, { placeholder: "Europe/Paris", spellcheck: false }), "IANA name; the default for recipients who set none."),
      h("div", { class: "inline" },
        field("Quiet hours from", input("preferences.quietHours.start", s.preferences.quietHours?.start, { type: "time" })),
        field("Quiet hours until", input("preferences.quietHours.end", s.preferences.quietHours?.end, { type: "time" }))),
      h("p", { class: "hint" }, "Leave both empty for no quiet hours."),
      field("Required types", input("preferences.requiredTypes", s.preferences.requiredTypes.join(", ")), "Comma-separated; sent even to recipients who opted out (OTP, security)."),
      field("Marketing types", input("preferences.marketingTypes", s.preferences.marketingTypes.join(", ")), "Comma-separated; need consent and honor unsubscribe."),
    ),
    fieldset(
      "Conversations",
      field("HELP reply", h("textarea", { name: "conversations.helpText", rows: 2, value: s.conversations.helpText ?? "" })),
      field("Keywords", h("textarea", { name: "conversations.keywords", rows: 3, spellcheck: false, value: keywordsText(s.conversations.keywords), placeholder: "renew = subscription.renew" }), "One per line: keyword = business event it posts."),
      field("Reply domain", input("conversations.replyDomain", s.conversations.replyDomain, { placeholder: "reply.example.com", spellcheck: false })),
    ),
    fieldset(
      "Branding (preference center)",
      field("Name shown to recipients", input("branding.name", s.branding?.name, { maxlength: 100 })),
      field("Logo URL", input("branding.logoUrl", s.branding?.logoUrl, { type: "url", placeholder: "https://…/logo.png", spellcheck: false }), "An https address."),
      field("Colour", input("branding.primaryColor", s.branding?.primaryColor, { placeholder: "#1a73e8", spellcheck: false }), "#rrggbb; darkened where needed so text on it stays readable."),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save settings")),
  );
}

function bodyOf(form, s) {
  const v = (name) => form.elements[name].value.trim();
  const start = v("preferences.quietHours.start");
  const end = v("preferences.quietHours.end");
  const body = {
    tracking: v("tracking"),
    retentionDays: v("retentionDays") ? Number(v("retentionDays")) : null,
    encryptContacts: form.elements.encryptContacts.checked,
    routing: Object.fromEntries(Object.keys(s.routing).map((ch) => [ch, v(`routing.${ch}`)])),
    receiptWindows: Object.fromEntries(Object.keys(s.receiptWindows).map((t) => [t, Number(v(`receiptWindows.${t}`) || 0)])),
    preferences: {
      requiredTypes: list(v("preferences.requiredTypes")),
      marketingTypes: list(v("preferences.marketingTypes")),
      quietHours: start || end ? { start, end } : null,
    },
    conversations: { keywords: keywordsOf(v("conversations.keywords")) },
    // An empty field clears that part of the branding.
    branding: { name: v("branding.name") || null, logoUrl: v("branding.logoUrl") || null, primaryColor: v("branding.primaryColor") || null },
  };
  if (v("preferences.timezone")) body.preferences.timezone = v("preferences.timezone");
  if (v("conversations.helpText")) body.conversations.helpText = v("conversations.helpText");
  if (v("conversations.replyDomain")) body.conversations.replyDomain = v("conversations.replyDomain");
  return body;
}

export async function render(view) {
  const s = await api("GET", "/api/settings");
  const form = formFor(s);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("PATCH", "/api/settings", bodyOf(form, s));
      await render(view);
      announce("Settings saved.");
    } catch (err) {
      // "preferences.quietHours" errors belong to its first control, keyword errors to the list.
      const errors = (err.errors ?? []).map((x) => ({ ...x, field: x.field.replace(/^preferences\.quietHours$/, "preferences.quietHours.start").replace(/^conversations\.keywords\..*/, "conversations.keywords") }));
      showErrors(form, { message: err.message, errors });
    }
  });
  view.replaceChildren(h("h1", {}, "Settings"), h("p", { class: "muted" }, "How Herald sends for this tenant. Changes apply to new sends."), form);
}
