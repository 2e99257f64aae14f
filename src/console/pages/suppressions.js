// The suppression list: contacts Herald will not send to on a channel (bounces, complaints,
// unsubscribes, manual entries). Add one by hand, or lift one so sends reach it again.
import { api, query } from "../api.js";
import { announce, field, h, select, showErrors, table, values, when } from "../dom.js";
import { CHANNELS } from "./history.js";

export async function render(view) {
  const { results } = await api("GET", `/api/suppressions${query({ size: 500 })}`);
  const rows = results.map((s) =>
    h(
      "tr",
      {},
      h("td", {}, s.channel),
      h("td", {}, s.contact),
      h("td", {}, s.reason),
      h("td", {}, s.source),
      h("td", {}, when(s.createdAt)),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Remove ${s.contact} (${s.channel})`, onclick: async () => {
        await api("DELETE", `/api/suppressions/${encodeURIComponent(s.channel)}/${encodeURIComponent(s.contact)}`);
        announce(`${s.contact} removed from the ${s.channel} suppression list.`);
        await render(view);
      } }, "Remove")),
    ),
  );
  const form = h(
    "form",
    { class: "filters", novalidate: true, "aria-label": "Add a suppression" },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    field("Channel", select("channel", CHANNELS, "email")),
    field("Contact", h("input", { name: "contact", required: true, autocomplete: "off" })),
    field("Reason", select("reason", ["manual", "bounce", "complaint", "unsubscribe", "opt_out", "invalid"], "manual")),
    field("Note", h("input", { name: "detail" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Add suppression")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const added = await api("POST", "/api/suppressions", values(form));
      announce(`${added.contact} suppressed on ${added.channel}.`);
      await render(view);
    } catch (err) {
      showErrors(form, err);
    }
  });
  view.replaceChildren(
    h("h1", {}, "Suppressions"),
    h("h2", {}, "Add a suppression"),
    form,
    results.length ? table("Suppressed contacts", ["Channel", "Contact", "Reason", "Source", "Since", ""], rows) : h("p", { class: "empty", id: "no-suppressions" }, "No suppressed contact."),
  );
}
