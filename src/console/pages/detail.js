// One communication: its fields, its timeline (acceptance, attempts, retries, failovers, provider
// events) and its rendered content. Email HTML goes only into a sandboxed iframe's srcdoc, with no
// scripts, no same-origin access, and the console's policy keeping remote images (pixels) out.
import { api } from "../api.js";
import { announce, h, statusBadge, when } from "../dom.js";

const looksLikeHtml = (s) => /<([a-z][a-z0-9]*)\b[^>]*>/i.test(s);
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function contentFrame(title, content) {
  const html = looksLikeHtml(content) ? content : `<pre style="white-space:pre-wrap;font:14px system-ui,sans-serif">${escapeHtml(content)}</pre>`;
  return h("iframe", { class: "email-frame", title, sandbox: "", referrerpolicy: "no-referrer", srcdoc: html });
}

function timelineItem(e) {
  const bits = [e.provider, e.httpStatus ? `HTTP ${e.httpStatus}` : null, e.latencyMs != null ? `${e.latencyMs} ms` : null, e.error].filter(Boolean);
  return h(
    "li",
    {},
    h("time", { datetime: e.at }, when(e.at)),
    " ",
    h("strong", {}, e.kind.replace("_", " ")),
    e.status ? [" ", statusBadge(e.status)] : null,
    bits.length ? h("span", { class: "muted" }, ` — ${bits.join(" · ")}`) : null,
  );
}

/** Statuses a communication is still expected to leave on its own: the page follows them. */
const MOVING = new Set(["queued", "sending", "sent"]);
const POLL_MS = 1500;
const POLLS = 40;

/** Re-reads a moving communication until it settles; redraws only when something changed. */
function follow(view, id, seen, polls) {
  const hash = location.hash;
  setTimeout(async () => {
    if (location.hash !== hash || !view.isConnected) return;
    const next = await api("GET", `/api/communications/${encodeURIComponent(id)}`).catch(() => null);
    if (!next || location.hash !== hash) return;
    if (next.status !== seen.status || next.events.length !== seen.events.length) show(view, next, polls + 1);
    else if (MOVING.has(next.status) && polls + 1 < POLLS) follow(view, id, next, polls + 1);
  }, POLL_MS);
}

export async function render(view, [id]) {
  show(view, await api("GET", `/api/communications/${encodeURIComponent(id)}`), 0);
}

function show(view, c, polls) {
  const id = c.id;
  if (MOVING.has(c.status) && polls < POLLS) follow(view, id, c, polls);
  const facts = [
    ["Status", statusBadge(c.status)],
    ["Channel", c.channel],
    ["Type", c.type],
    ["Recipient", [c.recipientName, c.recipientContact, c.recipientId && `(${c.recipientType} ${c.recipientId})`].filter(Boolean).join(" ")],
    ["Provider", c.provider ?? "—"],
    ["Template", c.templateId ? `${c.templateId} v${c.templateVersion}${c.locale ? ` (${c.locale})` : ""}` : "—"],
    ["Created", when(c.createdAt)],
    ["Sent", when(c.sentAt)],
    ["Delivered", when(c.deliveredAt)],
    ["Opens / clicks", `${c.openCount} / ${c.clickCount}`],
    ["Retries", `${c.retryCount} of ${c.maxRetries}`],
    ["Error", c.errorMessage ?? "—"],
  ];
  const actions = h("div", { class: "actions" });
  if (c.status === "queued" || c.status === "scheduled") {
    actions.append(
      h("button", { type: "button", class: "secondary", onclick: async () => {
        await api("POST", `/api/communications/${encodeURIComponent(c.id)}/cancel`);
        announce("Communication cancelled.");
        render(view, [id]);
      } }, "Cancel"),
    );
  }
  actions.append(
    h("button", { type: "button", class: "secondary", onclick: async () => {
      const copy = await api("POST", `/api/communications/${encodeURIComponent(c.id)}/resend`);
      announce("Resent as a new communication.");
      location.hash = `#/communications/${encodeURIComponent(copy.id)}`;
    } }, "Resend"),
    h("button", { type: "button", class: "secondary", onclick: () => render(view, [id]) }, "Refresh"),
  );
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/history" }, "← History")),
    h("h1", {}, c.subject || `${c.channel} to ${c.recipientContact ?? c.recipientId}`),
    actions,
    h("dl", { class: "facts" }, ...facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline", id: "timeline" }, ...c.events.map(timelineItem)),
    h("h2", {}, "Content"),
    c.content == null
      ? h("p", { class: "muted" }, "The content was redacted (retention) or is not stored.")
      : c.channel === "email"
        ? contentFrame("Email content (sandboxed)", c.content)
        : h("pre", { class: "message" }, c.content),
  );
}
