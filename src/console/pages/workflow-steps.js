// The structured editor for a workflow's steps (src/workflows/definition.ts is the contract): one
// box per step with the fields of its kind, nested lists for branch paths, wait_for_event's two
// outcomes and escalate's send, and add / move / remove buttons. The steps live in a plain
// object the inputs write into; a change of structure redraws the editor from it. Every control
// carries its JSON path (`steps.1.paths.0.when.0.value`), so the API's field errors land beside
// it (field-errors.js). `validateSteps` catches the mistakes worth a round trip before the API.
import { h, select } from "../dom.js";
import { CHANNELS } from "./history.js";
import { pathField } from "./field-errors.js";

export const STEP_KINDS = ["send", "delay", "digest", "throttle", "wait_for_event", "branch", "escalate", "start_reminder"];
const OPS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists", "not_exists"];
const PRIORITIES = ["low", "normal", "high", "urgent"];
const DURATION = /^[1-9]\d{0,5}(s|m|h|d)$/;
const STEP_ID = /^[a-z][a-z0-9_-]{0,39}$/;

// [name, label, kind, options]: kind is text, area, number, list (comma-separated), or an array of select options.
const SEND = [
  ["channel", "Channel", [...CHANNELS, "auto"]],
  ["channels", "Channels (for auto)", "list"],
  ["templateCode", "Template code", "text"],
  ["subject", "Subject (inline email)", "text"],
  ["content", "Content (instead of a template)", "area"],
  ["messageType", "Message type", "text"],
  ["priority", "Priority", PRIORITIES],
];
const FIELDS = {
  send: SEND,
  delay: [["duration", "Wait for (e.g. 2h)", "text"], ["untilField", "Or until the time at (data.dueAt)", "text"], ["untilTimeOfDay", "Or until the time of day (09:00)", "text"], ["timeZone", "Time zone", "text"]],
  digest: [["key", "Group by (data.projectId)", "text"], ["window", "Collect for (e.g. 1h)", "text"], ["untilTimeOfDay", "Or until the time of day", "text"], ["timeZone", "Time zone", "text"], ["maxEvents", "Events kept", "number"]],
  throttle: [["limit", "At most (runs)", "number"], ["window", "Per (e.g. 1d)", "text"], ["key", "Per value of (data.x)", "text"]],
  wait_for_event: [["event", "Event (e.g. invoice.paid)", "text"], ["timeout", "Give up after (e.g. 3d)", "text"]],
  branch: [],
  escalate: [["after", "After the send step (id)", "text"], ["within", "Within (e.g. 1d)", "text"], ["unless", "Unless it was", ["delivered", "opened", "clicked", "read"]]],
  start_reminder: [["name", "Sequence name", "text"], ["entityField", "Entity id at (data.invoiceId)", "text"], ["templateCode", "Template code", "text"], ["channels", "Channels", "list"], ["every", "Every (e.g. 3d)", "text"], ["maxSteps", "At most (reminders)", "number"], ["cancelOn", "Stop on events", "list"]],
};

let serial = 0;
const freshStep = (type, taken) => {
  let n = ++serial;
  while (taken.has(`${type.replace(/_/g, "-")}-${n}`)) n++;
  const id = `${type.replace(/_/g, "-")}-${n}`;
  const base = { type, id };
  if (type === "send") return { ...base, channel: "email", templateCode: "" };
  if (type === "branch") return { ...base, paths: [{ when: [{ field: "data.", op: "eq", value: "" }], steps: [] }], otherwise: [] };
  if (type === "wait_for_event") return { ...base, event: "", timeout: "", onEvent: [], onTimeout: [] };
  if (type === "escalate") return { ...base, after: "", within: "", unless: "opened", send: { type: "send", id: `${id}-send`, channel: "sms", templateCode: "" } };
  return base;
};

const ids = (steps) => new Set([...walk(steps)].map(({ step }) => step.id));

/** Every step with its path, depth first, as definition.ts walks them. */
function* walk(steps, path = "steps") {
  for (const [i, s] of steps.entries()) {
    const at = `${path}.${i}`;
    yield { step: s, path: at };
    if (s.type === "branch") {
      for (const [j, p] of (s.paths ?? []).entries()) yield* walk(p.steps ?? [], `${at}.paths.${j}.steps`);
      yield* walk(s.otherwise ?? [], `${at}.otherwise`);
    } else if (s.type === "wait_for_event") {
      yield* walk(s.onEvent ?? [], `${at}.onEvent`);
      yield* walk(s.onTimeout ?? [], `${at}.onTimeout`);
    } else if (s.type === "escalate" && s.send) yield { step: s.send, path: `${at}.send` };
  }
}

/** The definition without the editor's empty fields, as the API wants it. */
export function cleanSteps(steps) {
  return JSON.parse(JSON.stringify(steps, (k, v) => (v === "" || (Array.isArray(v) && v.length === 0 && ["channels", "cancelOn", "when"].includes(k)) ? undefined : v)));
}

/** The mistakes the editor can name without the API: [{field, message}] at the fields' paths. */
export function validateSteps(steps) {
  const errors = [];
  const err = (field, message) => errors.push({ field, message });
  const seen = new Map();
  const conditions = (list, at) =>
    (list ?? []).forEach((c, i) => {
      if (!c.field) err(`${at}.${i}.field`, "Enter a field, e.g. data.plan.");
      if (!["exists", "not_exists"].includes(c.op) && (c.value === undefined || c.value === "")) err(`${at}.${i}.value`, `"${c.op}" needs a value.`);
    });
  const duration = (v, at, required = true) => {
    if (v ? !DURATION.test(v) : required) err(at, "Enter a duration such as 30s, 15m, 2h or 7d.");
  };
  if (!steps.length) err("steps", "Add at least one step.");
  for (const { step: s, path } of walk(steps)) {
    if (!STEP_ID.test(s.id ?? "")) err(`${path}.id`, "Use a-z, 0-9, _ or -, starting with a letter (at most 40).");
    else if (seen.has(s.id)) err(`${path}.id`, `The id "${s.id}" is used twice.`);
    if (s.type === "send") {
      if (!!s.templateCode === !!s.content) err(`${path}.templateCode`, "Give a template code or content (one of them).");
      if (s.channels?.length && s.channel !== "auto") err(`${path}.channels`, "Channels are only for channel auto.");
    } else if (s.type === "delay") {
      if ([s.duration, s.untilField, s.untilTimeOfDay].filter(Boolean).length !== 1) err(`${path}.duration`, "Give one of: a duration, a field, or a time of day.");
      else duration(s.duration, `${path}.duration`, false);
    } else if (s.type === "digest") {
      if (!!s.window === !!s.untilTimeOfDay) err(`${path}.window`, "Give a window or a time of day (one of them).");
      else duration(s.window, `${path}.window`, false);
    } else if (s.type === "throttle") {
      if (!(s.limit >= 1)) err(`${path}.limit`, "Enter how many runs may pass.");
      duration(s.window, `${path}.window`);
    } else if (s.type === "wait_for_event") {
      if (!s.event) err(`${path}.event`, "Enter the event to wait for.");
      duration(s.timeout, `${path}.timeout`);
    } else if (s.type === "branch") {
      (s.paths ?? []).forEach((p, j) => (p.when?.length ? conditions(p.when, `${path}.paths.${j}.when`) : err(`${path}.paths.${j}`, "A path needs at least one condition.")));
    } else if (s.type === "escalate") {
      if (seen.get(s.after)?.type !== "send") err(`${path}.after`, "Name a send step that comes before this one.");
      duration(s.within, `${path}.within`);
    } else if (s.type === "start_reminder") {
      for (const f of ["name", "entityField", "templateCode"]) if (!s[f]) err(`${path}.${f}`, "Required.");
      if (!s.channels?.length) err(`${path}.channels`, "Give at least one channel.");
      duration(s.every, `${path}.every`);
      if (!(s.maxSteps >= 1)) err(`${path}.maxSteps`, "Enter how many reminders at most.");
    }
    if (s.when) conditions(s.when, `${path}.when`);
    seen.set(s.id, s);
  }
  return errors;
}

const parseValue = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};
const showValue = (v) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** A step list editor over `root.steps`; `onChange` hears every edit. */
export function stepEditor(root, onChange = () => {}) {
  const element = h("div", { class: "step-editor" });
  const changed = () => onChange(cleanSteps(root.steps));
  const redraw = (focusPath) => {
    element.replaceChildren(stepList(root, "steps", "steps", "Steps"));
    changed();
    if (focusPath) element.querySelector(`[data-path="${CSS.escape(focusPath)}"]`)?.focus();
  };

  function control(obj, name, label, kind, path) {
    const at = `${path}.${name}`;
    const value = obj[name];
    let el;
    if (Array.isArray(kind)) el = select(name, kind, value ?? kind[0]);
    else if (kind === "area") el = h("textarea", { rows: 3, value: value ?? "" });
    else if (kind === "list") el = h("input", { value: (value ?? []).join(", "), placeholder: "sms, email" });
    else el = h("input", { type: kind === "number" ? "number" : "text", value: value ?? "", spellcheck: false });
    el.addEventListener(Array.isArray(kind) ? "change" : "input", () => {
      const v = el.value.trim();
      if (kind === "list") obj[name] = v ? v.split(",").map((x) => x.trim()).filter(Boolean) : [];
      else if (kind === "number") obj[name] = v === "" ? "" : Number(v);
      else obj[name] = v;
      changed();
    });
    return pathField(label, el, at);
  }

  function conditionList(owner, key, path, title) {
    const list = (owner[key] ??= []);
    const rows = list.map((c, i) => {
      const at = `${path}.${key}.${i}`;
      const f = h("input", { value: c.field ?? "", spellcheck: false, oninput: () => ((c.field = f.value.trim()), changed()) });
      const op = select("op", OPS, c.op ?? "eq");
      op.addEventListener("change", () => ((c.op = op.value), changed()));
      const v = h("input", { value: showValue(c.value), spellcheck: false, oninput: () => ((c.value = v.value.trim() === "" ? undefined : parseValue(v.value.trim())), changed()) });
      return h(
        "div",
        { class: "condition" },
        pathField("Field", f, `${at}.field`),
        pathField("Operator", op, `${at}.op`),
        pathField("Value", v, `${at}.value`, "JSON, or plain text"),
        h("button", { type: "button", class: "secondary", onclick: () => (list.splice(i, 1), redraw()) }, `Remove condition ${i + 1}`),
      );
    });
    return h(
      "fieldset",
      { class: "conditions" },
      h("legend", {}, title),
      ...rows,
      h("button", { type: "button", class: "secondary", onclick: () => (list.push({ field: "", op: "eq", value: undefined }), redraw(`${path}.${key}.${list.length - 1}.field`)) }, "Add condition"),
    );
  }

  function stepBox(list, i, path, listPath) {
    const s = list[i];
    const type = select("type", STEP_KINDS, s.type);
    type.addEventListener("change", () => {
      list[i] = { ...freshStep(type.value, ids(root.steps)), id: s.id };
      redraw(`${path}.type`);
    });
    const fields = (FIELDS[s.type] ?? []).map(([name, label, kind]) => control(s, name, label, kind, path));
    const nested = [];
    if (s.type === "send") nested.push(conditionList(s, "when", path, "Only when (all hold)"));
    if (s.type === "branch") {
      s.paths.forEach((p, j) =>
        nested.push(
          h(
            "fieldset",
            { class: "branch-path" },
            h("legend", {}, `Path ${j + 1}`),
            conditionList(p, "when", `${path}.paths.${j}`, `Path ${j + 1} when`),
            stepList(p, "steps", `${path}.paths.${j}.steps`, `Path ${j + 1} steps`),
            s.paths.length > 1 ? h("button", { type: "button", class: "secondary", onclick: () => (s.paths.splice(j, 1), redraw()) }, `Remove path ${j + 1}`) : null,
          ),
        ),
      );
      nested.push(
        h("button", { type: "button", class: "secondary", onclick: () => (s.paths.push({ when: [{ field: "", op: "eq" }], steps: [] }), redraw(`${path}.paths.${s.paths.length - 1}.when.0.field`)) }, "Add path"),
        stepList(s, "otherwise", `${path}.otherwise`, "Otherwise"),
      );
    }
    if (s.type === "wait_for_event") nested.push(stepList(s, "onEvent", `${path}.onEvent`, "When the event comes"), stepList(s, "onTimeout", `${path}.onTimeout`, "When it does not"));
    if (s.type === "escalate") {
      nested.push(
        h("fieldset", { class: "stack" }, h("legend", {}, "Then send"), control(s.send, "id", "Step id", "text", `${path}.send`), ...SEND.map(([name, label, kind]) => control(s.send, name, label, kind, `${path}.send`))),
      );
    }
    const move = (d) => {
      [list[i], list[i + d]] = [list[i + d], list[i]];
      redraw(`${listPath}.${i + d}.type`);
    };
    const box = h(
      "fieldset",
      { class: "step", "data-path": path, id: `step-${path.replace(/\./g, "-")}` },
      h("legend", {}, `Step ${i + 1}: ${s.type.replace(/_/g, " ")}`),
      h("p", { class: "field-error", id: `step-${path.replace(/\./g, "-")}-error`, hidden: true }),
      pathField("Kind", type, `${path}.type`),
      control(s, "id", "Step id", "text", path),
      ...fields,
      ...nested,
      h(
        "div",
        { class: "actions" },
        i > 0 ? h("button", { type: "button", class: "secondary", onclick: () => move(-1) }, "Move up") : null,
        i < list.length - 1 ? h("button", { type: "button", class: "secondary", onclick: () => move(1) }, "Move down") : null,
        h("button", { type: "button", class: "secondary", onclick: () => (list.splice(i, 1), redraw()) }, `Remove step ${s.id}`),
      ),
    );
    return box;
  }

  function stepList(owner, key, path, title) {
    const list = (owner[key] ??= []);
    const kind = select("kind", STEP_KINDS, "send");
    kind.setAttribute("aria-label", `Kind of step to add to ${title}`);
    return h(
      "div",
      { class: "step-list", "data-path": path, id: `list-${path.replace(/\./g, "-")}` },
      h("h3", {}, title),
      h("p", { class: "field-error", id: `list-${path.replace(/\./g, "-")}-error`, hidden: true }),
      list.length ? h("ol", {}, ...list.map((_, i) => h("li", {}, stepBox(list, i, `${path}.${i}`, path)))) : h("p", { class: "muted" }, "No steps."),
      h(
        "div",
        { class: "actions" },
        kind,
        h("button", { type: "button", class: "secondary", onclick: () => (list.push(freshStep(kind.value, ids(root.steps))), redraw(`${path}.${list.length - 1}.type`)) }, `Add step to ${title}`),
      ),
    );
  }

  redraw();
  return { element, steps: () => cleanSteps(root.steps) };
}
