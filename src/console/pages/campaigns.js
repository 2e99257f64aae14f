// Campaigns (docs/campaigns.md): list them, create one on an audience with a template or inline
// content and an optional A/B split, send it, and follow its progress: the page re-reads the
// campaign while it is sending or testing and redraws only the progress section, whose one-line
// summary is a polite live region (the tables beside it are not announced on every poll).
import { api } from "../api.js";
import { announce, h, select, statusBadge, table, when } from "../dom.js";
import { CHANNELS } from "./history.js";
import { pathField, placeErrors } from "./field-errors.js";
import { follow } from "./follow.js";

const COUNTS = ["targeted", "queued", "sent", "delivered", "opened", "clicked", "bounced", "suppressed", "failed", "cancelled"];
const MOVING = new Set(["sending", "testing"]);
/** `manual`, or `auto:<metric>` when the test's end decided. */
const pickedBy = (t) => (t.pickedBy?.startsWith("auto:") ? `best ${t.pickedBy.slice(5)} rate when the test ended` : `picked by hand; metric ${t.winnerMetric}`);
const pct = (r) => `${Math.round(r * 1000) / 10}%`;

export async function render(view, [id]) {
  if (id === "new") return renderNew(view);
  if (id) return renderCampaign(view, id);
  const [{ results }, { results: audiences }] = await Promise.all([api("GET", "/api/campaigns?size=100"), api("GET", "/api/audiences")]);
  const audienceName = new Map(audiences.map((a) => [a.id, a.name]));
  const rows = results.map((c) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `#/campaigns/${encodeURIComponent(c.id)}` }, c.name)),
      h("td", {}, audienceName.get(c.audienceId) ?? c.audienceId),
      h("td", {}, c.channel),
      h("td", {}, c.abTest ? `A/B (${c.variants.length} variants)` : "single"),
      h("td", {}, statusBadge(c.status)),
      h("td", {}, when(c.createdAt)),
    ),
  );
  view.replaceChildren(
    h("div", { class: "page-head" }, h("h1", { tabindex: -1 }, "Campaigns"), h("a", { href: "#/campaigns/new", class: "button" }, "New campaign")),
    h("p", { class: "muted" }, "One message, or A/B variants, to an audience. ", h("a", { href: "#/audiences" }, "Manage audiences")),
    rows.length ? table("Campaigns", ["Name", "Audience", "Channel", "Message", "Status", "Created"], rows) : h("p", { class: "empty" }, "No campaigns yet."),
  );
}

/** One variant's message: an active template of the channel, or a subject and content. */
function messageFields(prefix, label, templates) {
  const at = (f) => (prefix ? `${prefix}.${f}` : f);
  return h(
    "fieldset",
    { class: "stack" },
    h("legend", {}, label),
    pathField("Template", select(at("templateId"), [["", "None: write the content below"], ...templates.map((t) => [t.id, `${t.name} — ${t.code} (${t.locale})`])], ""), at("templateId")),
    pathField("Subject (email)", h("input", { name: at("subject") }), at("subject")),
    pathField("Content", h("textarea", { name: at("content"), rows: 4 }), at("content"), "Mustache: {{name}} and the member's CSV columns."),
  );
}

async function renderNew(view) {
  const preset = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const [{ results: audiences }, { results: allTemplates }] = await Promise.all([api("GET", "/api/audiences"), api("GET", "/api/communication-templates")]);
  const channel = select("channel", [...CHANNELS, ["auto", "auto (each recipient's preferred channel)"]], "email");
  const ab = h("input", { type: "checkbox", name: "ab", id: "campaign-ab" });
  const messages = h("div", {});
  const abSettings = h(
    "div",
    { class: "stack", hidden: true },
    pathField("Test share (%)", h("input", { name: "testPercent", type: "number", min: 1, max: 100, value: 20 }), "testPercent", "The share of the audience the variants are tested on; the rest get the winner."),
    pathField("Test duration (minutes)", h("input", { name: "testDurationMinutes", type: "number", min: 1, value: 60 }), "testDurationMinutes"),
    pathField("Winner metric", select("winnerMetric", [["", "the channel's default"], "opened", "clicked", "delivered"], ""), "winnerMetric"),
  );
  const drawMessages = () => {
    const templates = allTemplates.filter((t) => t.isActive && (channel.value === "auto" || t.channel === channel.value));
    messages.replaceChildren(...(ab.checked ? [messageFields("variants.0", "Variant A", templates), messageFields("variants.1", "Variant B", templates)] : [messageFields("", "Message", templates)]));
    abSettings.hidden = !ab.checked;
  };
  channel.addEventListener("change", drawMessages);
  ab.addEventListener("change", drawMessages);
  drawMessages();
  const form = h(
    "form",
    { class: "stack", novalidate: true },
    h("p", { class: "form-error", role: "alert", tabindex: -1, hidden: true }),
    pathField("Name", h("input", { name: "name", required: true }), "name"),
    pathField("Audience", select("audienceId", [["", "Choose an audience"], ...audiences.map((a) => [a.id, a.name])], preset.get("audienceId") ?? ""), "audienceId"),
    pathField("Channel", channel, "channel"),
    pathField("Type", h("input", { name: "type", value: "marketing" }), "type", "The message type preferences and stats see."),
    h("label", { class: "check" }, ab, " Split test (A/B): two variants on a test share, then the winner to everyone else"),
    messages,
    abSettings,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create campaign"), h("a", { href: "#/campaigns", class: "button secondary" }, "Cancel")),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = campaignBody(form, ab.checked);
    const missing = [];
    if (!body.name) missing.push({ field: "name", message: "Enter a name." });
    if (!body.audienceId) missing.push({ field: "audienceId", message: "Choose an audience." });
    if (missing.length) return placeErrors(form, "Some fields need a value.", missing);
    try {
      const created = await api("POST", "/api/campaigns", body);
      announce(`Campaign "${created.name}" saved as a ${created.status}.`);
      location.hash = `#/campaigns/${encodeURIComponent(created.id)}`;
    } catch (err) {
      placeErrors(form, err.message, err.errors);
    }
  });
  view.replaceChildren(h("p", {}, h("a", { href: "#/campaigns" }, "← Campaigns")), h("h1", { tabindex: -1 }, "New campaign"), form);
}

/** The POST body from the form: one message, or variants A and B with the test's settings. */
function campaignBody(form, ab) {
  const v = (name) => form.elements[name]?.value.trim() || undefined;
  const message = (p) => ({ templateId: v(`${p}templateId`), subject: v(`${p}subject`), content: v(`${p}content`) });
  const body = { name: v("name"), audienceId: v("audienceId"), channel: v("channel"), type: v("type") };
  if (ab) {
    Object.assign(body, {
      variants: ["A", "B"].map((name, i) => ({ name, ...message(`variants.${i}.`) })),
      testPercent: Number(v("testPercent")) || undefined,
      testDurationMinutes: Number(v("testDurationMinutes")) || undefined,
      winnerMetric: v("winnerMetric"),
    });
  } else Object.assign(body, message(""));
  return JSON.parse(JSON.stringify(body));
}

async function renderCampaign(view, id) {
  const path = `/api/campaigns/${encodeURIComponent(id)}`;
  const c = await api("GET", path);
  // The audience may have been deleted since; the campaign still shows.
  const audience = await api("GET", `/api/audiences/${encodeURIComponent(c.audienceId)}`).catch(() => null);
  const act = (label, action, done, cls = "secondary") =>
    h("button", { type: "button", class: cls, onclick: async () => {
      try {
        await api("POST", `${path}/${action}`, action === "winner" ? done : undefined);
        announce(typeof done === "string" ? done : "Winner chosen.");
      } catch (err) {
        announce(err.message);
      }
      // The button is gone with the redraw; the heading keeps keyboard users on the page.
      await renderCampaign(view, id);
      view.querySelector("h1")?.focus();
    } }, label);
  const actions = h("div", { class: "actions" });
  if (c.status === "draft" || c.status === "scheduled") actions.append(act("Send now", "send", "Sending started.", ""));
  if (c.status === "sending" || c.status === "testing") actions.append(act("Pause", "pause", "Campaign paused."));
  if (c.status === "paused") actions.append(act("Resume", "resume", "Campaign resumed."));
  if (["draft", "scheduled", "sending", "paused", "testing"].includes(c.status)) actions.append(act("Cancel campaign", "cancel", "Campaign cancelled."));
  if (c.abTest && !c.abTest.winner && c.phase === "test" && ["sending", "paused", "testing"].includes(c.status)) {
    for (const variant of c.variants) actions.append(act(`Pick ${variant.name} as the winner`, "winner", { variant: variant.name }));
  }
  const progress = h("section", { "aria-labelledby": "progress-h", id: "campaign-progress" });
  view.replaceChildren(
    h("p", {}, h("a", { href: "#/campaigns" }, "← Campaigns")),
    h("h1", { tabindex: -1 }, c.name),
    actions,
    h(
      "dl",
      { class: "facts" },
      ...[
        ["Status", statusBadge(c.status)],
        ["Audience", audience ? h("a", { href: `#/audiences/${encodeURIComponent(c.audienceId)}` }, `${audience.name} (${audience.members} members)`) : "deleted"],
        ["Channel", c.channel],
        ["Type", c.type],
        ["Started", when(c.startedAt)],
        ["Completed", when(c.completedAt)],
        ["Last error", c.lastError ?? "—"],
      ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    progress,
  );
  showProgress(progress, c);
  // A change of status redraws the whole page (its actions change); otherwise only the progress.
  follow(progress, c, {
    read: () => api("GET", path),
    moving: (x) => MOVING.has(x.status),
    onNext: (next) => (next.status !== c.status ? (renderCampaign(view, next.id), false) : (showProgress(progress, next), true)),
  });
}

function showProgress(section, c) {
  const p = c.progress;
  const summary = `${p.processed} of ${p.members ?? "?"} members processed · ${p.delivered} delivered · ${p.failed + p.bounced} failed or bounced · ${p.suppressed} suppressed`;
  const countRow = h("tr", {}, ...COUNTS.map((k) => h("td", {}, String(p[k]))));
  const ab = c.abTest
    ? [
        h("h2", { id: "ab-h" }, "A/B test"),
        h("p", { id: "ab-outcome" }, c.abTest.winner ? `Winner: ${c.abTest.winner} (${pickedBy(c.abTest)})` : `No winner yet · metric ${c.abTest.winnerMetric} · ${c.abTest.testPercent}% test share${c.abTest.testEndsAt ? ` until ${when(c.abTest.testEndsAt)}` : ""}`),
        table("Results by variant", ["Variant", "Targeted", "Delivered", "Opened", "Clicked", "Delivery rate", "Open rate", "Click rate"], c.results.map((r) =>
          h("tr", {}, h("td", {}, r.variant === c.abTest.winner ? `${r.variant} (winner)` : r.variant), ...[r.targeted, r.delivered, r.opened, r.clicked].map((n) => h("td", {}, String(n))), ...["delivered", "opened", "clicked"].map((m) => h("td", {}, pct(r.rates[m])))),
        )),
      ]
    : [];
  // The live summary stays the same element across polls, so only its changed text is announced.
  if (!section.firstChild) section.append(h("h2", { id: "progress-h" }, "Progress"), h("p", { id: "progress-summary", role: "status" }), h("div", {}));
  const [, live, body] = section.children;
  if (live.textContent !== summary) live.textContent = summary;
  body.replaceChildren(
    h("progress", { max: Math.max(p.members ?? 0, 1), value: p.processed, "aria-labelledby": "progress-h" }),
    table("Messages by status", COUNTS, [countRow]),
    ...ab,
  );
}
