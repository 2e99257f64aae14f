// One workflow run: its recipient, data and status, and its step timeline — each step's times,
// its definition (the inputs it ran with, from the run's version), its outcome and output, and
// the communications it sent, linked to their own pages. A running or waiting run is re-read
// until it settles; an open run can be cancelled from here, alone or with every run sharing its
// cancellation key.
import { api } from "../api.js";
import { announce, h, statusBadge, when } from "../dom.js";
import { follow } from "./follow.js";

const OPEN = new Set(["pending", "running", "waiting"]);
const NESTED = new Set(["paths", "otherwise", "onEvent", "onTimeout"]);

/** Each step of a definition by id, nested ones included. */
function definitions(steps, out = new Map()) {
  for (const s of steps ?? []) {
    out.set(s.id, s);
    for (const p of s.paths ?? []) definitions(p.steps, out);
    for (const k of ["otherwise", "onEvent", "onTimeout"]) definitions(s[k], out);
    if (s.send) definitions([s.send], out);
  }
  return out;
}

const json = (v) => h("pre", { class: "message" }, JSON.stringify(v, null, 2));

function stepItem(s, def) {
  // A branch's or a wait's nested steps have their own entries in the timeline.
  const inputs = Object.fromEntries(Object.entries(def ?? {}).filter(([k]) => !NESTED.has(k)));
  return h(
    "li",
    { "data-step": s.id },
    h("h3", {}, s.id, " ", h("span", { class: "muted" }, s.type.replace(/_/g, " ")), " ", statusBadge(s.status), s.outcome ? [" → ", h("strong", { class: "outcome" }, s.outcome)] : null),
    h("p", { class: "muted" }, "Started ", h("time", { datetime: s.startedAt ?? "" }, when(s.startedAt)), " · finished ", h("time", { datetime: s.finishedAt ?? "" }, when(s.finishedAt))),
    def ? h("details", {}, h("summary", {}, "Inputs (the step as defined)"), json(inputs)) : null,
    s.output ? h("details", {}, h("summary", {}, "Output"), json(s.output)) : null,
    s.communicationIds?.length
      ? h("p", {}, "Sent: ", ...s.communicationIds.flatMap((id, i) => [i ? ", " : "", h("a", { href: `#/communications/${encodeURIComponent(id)}` }, `communication ${id.slice(-8)}`)]))
      : null,
  );
}

export async function render(view, [key, id]) {
  const [r, { results: versions }] = await Promise.all([api("GET", `/api/workflows/runs/${encodeURIComponent(id)}`), api("GET", `/api/workflows/${encodeURIComponent(key)}/versions`)]);
  show(view, key, r, definitions(versions.find((v) => v.version === r.version)?.steps), 0);
}

function show(view, key, r, defs, polls) {
  const actions = h("div", { class: "actions" });
  const reread = async () => show(view, key, await api("GET", `/api/workflows/runs/${encodeURIComponent(r.id)}`), defs, 0);
  if (OPEN.has(r.status)) {
    actions.append(
      h("button", { type: "button", class: "secondary", onclick: async () => {
        // A run that finished meanwhile is a 409 naming its status: say so and show where it ended.
        const said = await api("POST", `/api/workflows/${encodeURIComponent(key)}/runs/${encodeURIComponent(r.id)}/cancel`).then(() => "Run cancelled.", (err) => err.message);
        announce(said);
        await reread();
      } }, "Cancel this run"),
    );
  }
  if (OPEN.has(r.status) && r.cancellationKey) {
    actions.append(
      h("button", { type: "button", class: "secondary", onclick: async () => {
        const { cancelled } = await api("POST", "/api/workflows/runs/cancel", { cancellationKey: r.cancellationKey });
        announce(`${cancelled} run${cancelled === 1 ? "" : "s"} cancelled.`);
        await reread();
      } }, `Cancel runs with key ${r.cancellationKey}`),
    );
  }
  const hadFocus = view.contains(document.activeElement) && document.activeElement !== document.body;
  view.replaceChildren(
    h("p", {}, h("a", { href: `#/workflows/${encodeURIComponent(key)}` }, `← ${key}`)),
    h("h1", { tabindex: -1 }, `Run for ${r.recipient.type}/${r.recipient.id}`),
    h("p", { id: "run-status", role: "status" }, "Status: ", statusBadge(r.status)),
    actions,
    h(
      "dl",
      { class: "facts" },
      ...[
        ["Workflow", `${r.workflowKey} v${r.version}`],
        ["Started", when(r.createdAt)],
        ["Finished", when(r.finishedAt)],
        ["Cancellation key", r.cancellationKey ?? "—"],
        ...(r.cancelReason ? [["Cancelled because", r.cancelReason]] : []),
        ["Actor", r.actor ? `${r.actor.type}/${r.actor.id}` : "—"],
      ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    h("h2", {}, "Data"),
    json(r.data),
    h("h2", {}, "Steps"),
    r.steps.length ? h("ol", { class: "timeline", id: "run-steps" }, ...r.steps.map((s) => stepItem(s, defs.get(s.id)))) : h("p", { class: "empty" }, "No step has started yet."),
  );
  // A redraw replaces the element that had focus (a button, a summary): put it on the heading.
  if (hadFocus) view.querySelector("h1")?.focus();
  const read = () => api("GET", `/api/workflows/runs/${encodeURIComponent(r.id)}`);
  follow(view.querySelector("h1"), r, { read, moving: (x) => OPEN.has(x.status), onNext: (next, n) => JSON.stringify(next) === JSON.stringify(r) || (show(view, key, next, defs, n), false) }, polls);
}
