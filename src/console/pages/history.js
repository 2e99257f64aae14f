// Communication history (seed §9.1): the seed's filters — status, channel, type, recipient (its id
// or exact contact) and a
// date range — kept in the page's hash so a filtered view survives a reload and the back button.
import { api, query } from "../api.js";
import { field, h, select, statusBadge, table, values, when } from "../dom.js";

export const STATUSES = ["scheduled", "queued", "sent", "delivered", "opened", "clicked", "bounced", "failed", "suppressed", "cancelled"];
export const CHANNELS = ["email", "sms", "whatsapp", "messenger", "push", "in_app", "slack", "teams", "discord", "telegram"];
const SIZE = 20;

export async function render(view) {
  // Read from the hash itself: the router's decoded copy would turn an encoded "+" into a space.
  const filters = Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] ?? ""));
  const page = Math.max(1, Number(filters.page) || 1);
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter communications" },
    field("Status", select("status", [["", "Any status"], ...STATUSES.map((s) => [s, s])], filters.status ?? "")),
    field("Channel", select("channel", [["", "Any channel"], ...CHANNELS.map((c) => [c, c])], filters.channel ?? "")),
    field("Type", h("input", { name: "type", value: filters.type ?? "", placeholder: "invoice" })),
    field("Recipient", h("input", { name: "recipient", type: "search", value: filters.recipient ?? filters.recipientId ?? "", spellcheck: false }), "An id, email address or phone number."),
    field("From", h("input", { name: "startDate", type: "date", value: filters.startDate ?? "" })),
    field("To", h("input", { name: "endDate", type: "date", value: filters.endDate ?? "" })),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/history", class: "button secondary" }, "Clear")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/history${query(values(form))}`;
  });

  const { results, count } = await api("GET", `/api/communications${query({ ...filters, page, size: SIZE })}`);
  const rows = results.map((c) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/communications/${encodeURIComponent(c.id)}` }, when(c.createdAt))),
      h("td", {}, c.channel),
      h("td", {}, c.type),
      h("td", {}, c.recipientContact ?? c.recipientId ?? "—"),
      h("td", {}, c.subject ?? (c.content ?? "").slice(0, 60)),
      h("td", {}, statusBadge(c.status)),
    ),
  );
  const pages = Math.max(1, Math.ceil(count / SIZE));
  const to = (p) => `#/history${query({ ...filters, page: p > 1 ? p : undefined })}`;
  const parts = [
    h("div", { class: "page-head" }, h("h1", {}, "Communication history"), h("a", { href: "#/send", class: "button" }, "Send a message")),
    form,
    h("p", { class: "muted", id: "history-count" }, `${count} communication${count === 1 ? "" : "s"}`),
    results.length
      ? table("Communications, newest first", ["Created", "Channel", "Type", "Recipient", "Subject or text", "Status"], rows)
      : h("p", { class: "empty" }, "No communication matches these filters."),
    pages > 1
      ? h(
          "nav",
          { class: "pager", "aria-label": "Pages" },
          page > 1 ? h("a", { href: to(page - 1), rel: "prev" }, "← Newer") : h("span"),
          h("span", {}, `Page ${page} of ${pages}`),
          page < pages ? h("a", { href: to(page + 1), rel: "next" }, "Older →") : h("span"),
        )
      : null,
  ];
  view.replaceChildren(...parts.filter(Boolean));
}
