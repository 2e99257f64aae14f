// Conversations (docs/conversations.md): the threads customers started by writing in, newest
// activity first and filterable by channel and unread; a thread's messages oldest first, its
// media listed with whether Herald stored a copy (never shown inline: the console's policy keeps
// remote content out); and a reply box. Opening a thread marks it read; the nav shows how many messages
// are unread. WhatsApp's 24-hour window is said before a reply is typed, and the API's refusal
// outside it is shown beside the template field it asks for.
import { api, query, session } from "../api.js";
import { announce, field, h, select, showErrors, table, values, when } from "../dom.js";
import { CHANNELS } from "./history.js";
import { follow } from "./follow.js";

const PAGE = 50;
/** An open thread is re-read every 3 s for 10 minutes; Refresh picks up anything later. */
const LIVE = { every: 3000, max: 200 };

export async function render(view, [id, search]) {
  if (id) return renderThread(view, id);
  const filters = Object.fromEntries(new URLSearchParams(search ?? ""));
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter conversations" },
    field("Channel", select("channel", [["", "Any channel"], ...CHANNELS.map((c) => [c, c])], filters.channel ?? "")),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "unread", value: "true", checked: filters.unread === "true" }), " Unread only"),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Filter"), h("a", { href: "#/conversations", class: "button secondary" }, "Clear")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/conversations${query(values(form))}`;
  });
  const { results, nextCursor } = await api("GET", `/api/conversations${query({ channel: filters.channel, unread: filters.unread, cursor: filters.cursor, limit: PAGE })}`);
  const rows = results.map((t) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/conversations/${encodeURIComponent(t.id)}` }, t.contact)),
      h("td", {}, t.channel),
      h("td", {}, t.recipientId ? `${t.recipientType}/${t.recipientId}` : "—"),
      h("td", {}, when(t.lastMessageAt)),
      h("td", {}, t.unreadCount ? h("span", { class: "badge status-queued" }, `${t.unreadCount} unread`) : "read"),
    ),
  );
  view.replaceChildren(
    h("h1", { tabindex: -1 }, "Conversations"),
    h("p", { class: "muted" }, "Threads start when a customer writes in (SMS, WhatsApp, email replies…); replies go through the normal pipeline."),
    form,
    h("p", { id: "conversation-count", role: "status" }, `${results.length}${nextCursor ? "+" : ""} conversation${results.length === 1 ? "" : "s"}`),
    rows.length ? table("Conversations", ["Contact", "Channel", "Recipient", "Last message", "Unread"], rows) : h("p", { class: "empty" }, "No conversations match."),
    nextCursor ? h("p", { class: "pager" }, h("a", { href: `#/conversations${query({ ...filters, cursor: nextCursor })}` }, "Older conversations")) : null,
  );
}

function messageItem(m) {
  const inbound = m.direction === "inbound";
  return h(
    "li",
    { class: inbound ? "message-in" : "message-out", "data-direction": m.direction },
    h("p", {}, h("strong", {}, inbound ? "Customer" : "You"), " · ", h("time", { datetime: m.at }, when(m.at)), m.keyword ? ` · keyword ${m.keyword}` : ""),
    m.subject ? h("p", {}, h("strong", {}, "Subject: "), m.subject) : null,
    m.text ? h("p", { class: "message-text" }, m.text) : null,
    m.button ? h("p", { class: "muted" }, `Tapped: ${m.button.text}`) : null,
    m.media.length ? h("ul", { class: "media", "aria-label": "Attachments" }, ...m.media.map((x) => h("li", {}, `${x.contentType}${x.size ? ` (${x.size} bytes)` : ""}: `, x.stored ? "stored" : x.pending ? "being fetched" : h("span", { class: "form-error" }, `not stored: ${x.error ?? "no copy"}`)))) : null,
    m.communicationId ? h("p", {}, h("a", { href: `#/communications/${encodeURIComponent(m.communicationId)}` }, inbound ? "The message it answers" : "Delivery of this reply")) : null,
  );
}

async function renderThread(view, id) {
  const path = `/api/conversations/${encodeURIComponent(id)}`;
  let [t, { results: messages }] = await Promise.all([api("GET", path), api("GET", `${path}/messages?limit=200`)]);
  if (t.unreadCount > 0) {
    t = await api("POST", `${path}/read`);
    refreshUnread();
  }
  const list = h("div", { id: "thread-messages" });
  drawMessages(list, messages);
  const windowClosed = t.channel === "whatsapp" && !t.windowOpenUntil;
  const form = h(
    "form",
    { class: "stack", novalidate: true, id: "reply-form" },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    t.channel === "whatsapp"
      ? h("p", { class: windowClosed ? "warning" : "muted", id: "whatsapp-window" }, windowClosed ? "WhatsApp's 24-hour window is closed (it opens for 24 hours after the customer's last message): only an approved template can be sent now." : `WhatsApp's 24-hour window is open until ${when(t.windowOpenUntil)}: free text is allowed until then.`)
      : null,
    t.channel === "email" ? field("Subject", h("input", { name: "subject", placeholder: "Re: …" }), "Left empty: Re: and the customer's subject.") : null,
    field("Your reply", h("textarea", { name: "content", rows: 4 })),
    field("Or a template (code)", h("input", { name: "templateCode", spellcheck: false }), t.channel === "whatsapp" ? "Outside the 24-hour window: a template with a WhatsApp approved template." : "Instead of the text above."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Send reply")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = values(form);
    if (!v.content && !v.templateCode) return showErrors(form, { message: "Write a reply or name a template.", errors: [{ field: "content", message: "Write a reply." }] });
    try {
      const r = await api("POST", `${path}/reply`, v);
      announce(r.communication.status === "suppressed" ? `Not sent: ${r.reason}` : "Reply sent.");
      await renderThread(view, id);
      view.querySelector("#reply-form textarea")?.focus();
    } catch (err) {
      showErrors(form, err);
    }
  });
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/conversations" }, "← Conversations")),
    h("h1", { tabindex: -1 }, `Conversation with ${t.contact}`),
    h(
      "dl",
      { class: "facts" },
      ...[
        ["Channel", t.channel],
        ["Our address", t.ourAddress ?? "—"],
        ["Recipient", t.recipientId ? `${t.recipientType}/${t.recipientId}` : "not matched to a recipient"],
        ["Last from the customer", when(t.lastInboundAt)],
        ["Unread", String(t.unreadCount)],
      ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => renderThread(view, id) }, "Refresh")),
    h("h2", {}, "Messages"),
    list,
    h("section", { "aria-labelledby": "reply-h" }, h("h2", { id: "reply-h" }, "Reply"), form),
  );
  // New messages go into the list in place, so a reply being typed is left alone.
  follow(list, messages, {
    ...LIVE,
    read: async () => (await api("GET", `${path}/messages?limit=200`)).results,
    moving: () => true,
    onNext: (next) => {
      if (next.length === messages.length) return true;
      const arrived = next.slice(messages.length).filter((m) => m.direction === "inbound").length;
      messages = next;
      drawMessages(list, messages);
      if (arrived) {
        announce(`${arrived} new message${arrived === 1 ? "" : "s"} from the customer.`);
        api("POST", `${path}/read`).then(refreshUnread, () => {});
      }
      return true;
    },
  });
}

function drawMessages(list, messages) {
  list.replaceChildren(messages.length ? h("ol", { class: "timeline", id: "messages" }, ...messages.map(messageItem)) : h("p", { class: "empty" }, "No messages."));
}

let asked = 0;
/** Sets the nav's unread badge from the API: the unread messages over the unread threads. */
export async function refreshUnread() {
  const badge = document.getElementById("unread-badge");
  if (!badge || !session.get()) return;
  const mine = ++asked;
  const page = await api("GET", "/api/conversations?unread=true&limit=100").catch(() => null);
  // An older answer (from before a thread was marked read) must not overwrite a newer one.
  if (!page || mine !== asked) return;
  const n = page.results.reduce((sum, t) => sum + t.unreadCount, 0);
  badge.replaceChildren(`${n}${page.nextCursor ? "+" : ""}`, h("span", { class: "sr-only" }, " unread"));
  badge.hidden = n === 0;
}

/** Keeps the badge current: on every page change, and every half minute for new messages. */
export function watchUnread(everyMs = 30_000) {
  window.addEventListener("hashchange", refreshUnread);
  setInterval(refreshUnread, everyMs);
  refreshUnread();
}
