// A recipient's preferences (seed §4.3): look one up by entity type and id, then change channels,
// preferred contacts, locale, time zone, quiet hours or the global opt-out. A PATCH names only
// what changed in the form, so fields this page does not show (per-type routes) stay as they were.
import { api } from "../api.js";
import { announce, field, h, showErrors, values } from "../dom.js";

const TOGGLES = [
  ["emailEnabled", "Email"],
  ["smsEnabled", "SMS"],
  ["whatsappEnabled", "WhatsApp"],
  ["messengerEnabled", "Messenger"],
  ["pushEnabled", "Push"],
  ["inAppEnabled", "In-app"],
];
const CONTACTS = [
  ["preferredEmail", "Preferred email"],
  ["preferredPhone", "Preferred phone (SMS)"],
  ["preferredWhatsapp", "Preferred WhatsApp number"],
  ["preferredMessengerId", "Preferred Messenger id"],
];

export async function render(view, [entityType, entityId]) {
  const lookup = h(
    "form",
    { class: "filters", "aria-label": "Find a recipient" },
    field("Entity type", h("input", { name: "entityType", value: entityType ?? "customer", required: true })),
    field("Entity id", h("input", { name: "entityId", value: entityId ?? "", required: true })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show preferences")),
  );
  lookup.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = values(lookup);
    if (v.entityType && v.entityId) location.hash = `#/preferences/${encodeURIComponent(v.entityType)}/${encodeURIComponent(v.entityId)}`;
  });
  const parts = [h("h1", {}, "Recipient preferences"), lookup];
  if (entityType && entityId) parts.push(await editor(entityType, entityId));
  view.replaceChildren(...parts);
}

async function editor(entityType, entityId) {
  const path = `/api/communication-preferences/${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`;
  const p = await api("GET", path);
  const form = h(
    "form",
    { class: "stack", novalidate: true, id: "preferences-form" },
    h("h2", {}, `${entityType} ${entityId}`),
    h("p", { class: "muted" }, p.exists ? `Last changed ${new Date(p.updatedAt).toLocaleString()}.` : "No preferences stored yet: these are the defaults."),
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    h("fieldset", {}, h("legend", {}, "Channels"), ...TOGGLES.map(([name, label]) => h("label", { class: "check" }, h("input", { type: "checkbox", name, checked: p[name] }), ` ${label}`))),
    ...CONTACTS.map(([name, label]) => field(label, h("input", { name, value: p[name] ?? "", autocomplete: "off" }))),
    field("Locale", h("input", { name: "locale", value: p.locale ?? "", placeholder: "en" })),
    field("Time zone", h("input", { name: "timezone", value: p.timezone ?? "", placeholder: "Europe/Paris" })),
    h("fieldset", {}, h("legend", {}, "Quiet hours"),
      field("From", h("input", { name: "quietStart", type: "time", value: p.quietHours?.start ?? "" })),
      field("Until", h("input", { name: "quietEnd", type: "time", value: p.quietHours?.end ?? "" }))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "optedOut", checked: !!p.optedOutAt }), " Opted out of everything"),
    p.marketingUnsubscribed?.length ? h("p", { class: "muted" }, `Unsubscribed from marketing on: ${p.marketingUnsubscribed.join(", ")}`) : null,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save preferences")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const el = form.elements;
    const patch = {};
    for (const [name] of TOGGLES) if (el[name].checked !== p[name]) patch[name] = el[name].checked;
    for (const name of [...CONTACTS.map(([n]) => n), "locale", "timezone"]) {
      const v = el[name].value.trim() || null;
      if (v !== (p[name] ?? null)) patch[name] = v;
    }
    const start = el.quietStart.value;
    const end = el.quietEnd.value;
    const quiet = start && end ? { start, end } : null;
    if (JSON.stringify(quiet) !== JSON.stringify(p.quietHours ?? null)) patch.quietHours = quiet;
    if (el.optedOut.checked !== !!p.optedOutAt) patch.optedOut = el.optedOut.checked;
    if (!Object.keys(patch).length) return announce("Nothing changed.");
    try {
      Object.assign(p, await api("PATCH", path, patch));
      announce("Preferences saved.");
      form.replaceWith(await editor(entityType, entityId));
      document.getElementById("preferences-form")?.querySelector("h2")?.focus();
    } catch (err) {
      // The API names quietHours; the form shows its two halves.
      showErrors(form, { ...err, message: err.message, errors: (err.errors ?? []).map((x) => (x.field.startsWith("quietHours") ? { ...x, field: "quietStart" } : x)) });
    }
  });
  return form;
}
