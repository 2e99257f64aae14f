// Small DOM helpers. Text always goes in through textContent: nothing the API returns is ever
// parsed as HTML in this page (an email's HTML is shown only in a sandboxed iframe's srcdoc).

/** h("p", { class: "x", onclick }, "text", child) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name in el && typeof el[name] !== "function" && !name.startsWith("aria") && name !== "role" && name !== "for" && name !== "list") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false).map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return el;
}

let ids = 0;
/** A labelled form field: <label> + control, linked by id, with a slot for its error. */
export function field(label, control, hint) {
  control.id ||= `f${++ids}`;
  const error = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  const described = [hint ? `${control.id}-hint` : "", `${control.id}-error`].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  return h("div", { class: "field", "data-field": control.name || "" }, h("label", { for: control.id }, label), hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null, control, error);
}

export const select = (name, options, value) =>
  h("select", { name }, ...options.map((o) => (Array.isArray(o) ? h("option", { value: o[0], selected: o[0] === value }, o[1]) : h("option", { value: o, selected: o === value }, o))));

/** Shows an API error on a form: each named field gets its message, the rest goes to the banner. */
export function showErrors(form, error) {
  for (const p of form.querySelectorAll(".field-error")) p.hidden = true;
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  const unplaced = [];
  let first;
  for (const e of error?.errors ?? []) {
    // A nested field ("credentials.apiKey") has its own control, or belongs to its top-level one.
    const control = form.querySelector(`[name="${CSS.escape(e.field)}"]`) ?? form.querySelector(`[name="${CSS.escape(e.field.split(".")[0])}"]`);
    if (!control) {
      unplaced.push(`${e.field}: ${e.message}`);
      continue;
    }
    control.setAttribute("aria-invalid", "true");
    const p = form.querySelector(`#${CSS.escape(control.id)}-error`);
    if (p) {
      p.textContent = e.message;
      p.hidden = false;
    }
    first ??= control;
  }
  const banner = form.querySelector(".form-error");
  if (banner) {
    banner.textContent = error ? [error.message, ...unplaced].join(" — ") : "";
    banner.hidden = !error;
  }
  (first ?? (error ? banner : null))?.focus?.();
}

/** A form's named values, trimmed; empty strings left out. */
export function values(form) {
  const out = {};
  for (const [k, v] of new FormData(form)) {
    const s = typeof v === "string" ? v.trim() : v;
    if (s !== "") out[k] = s;
  }
  return out;
}

/**
 * Announces a message politely to screen readers and shows it in the toast bar, which sits in the
 * page flow under the header, so it never covers content. `carry` keeps it for the one navigation
 * the caller is about to make ("Template created" shown on the template's page); any other
 * navigation clears it (clearToast, called by the router).
 */
export function announce(message, { carry = false } = {}) {
  const el = document.getElementById("toast");
  el.hidden = false;
  el.querySelector("#toast-text").textContent = message;
  announce.carry = carry;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(clearToast, 8000);
}

export function clearToast({ navigating = false } = {}) {
  if (navigating && announce.carry) {
    announce.carry = false;
    return;
  }
  clearTimeout(announce.timer);
  const el = document.getElementById("toast");
  el.hidden = true;
  el.querySelector("#toast-text").textContent = "";
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—");

export const statusBadge = (status) => h("span", { class: `badge status-${status}` }, status);

/** A table inside a labelled, keyboard-scrollable region; on a phone each row becomes a card. */
export function table(caption, headers, rows) {
  // Each cell carries its column's name, which narrow screens show beside it (console.css).
  for (const row of rows) [...row.children].forEach((td, i) => headers[i] && td.setAttribute("data-label", headers[i]));
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", {}, h("caption", {}, caption), h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, ...rows)),
  );
}

/** Runs `fn` at most once per `ms` of quiet (live previews). */
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** The one-time secret: shown with a copy button until the user says it is saved. */
export function oneTimeSecret(title, secret, note) {
  const code = h("code", { id: "new-secret", class: "secret" }, secret);
  const panel = h(
    "section",
    { class: "secret-panel", "aria-labelledby": "secret-h", role: "region" },
    h("h2", { id: "secret-h" }, title),
    h("p", {}, "Copy it now: it is shown only once and cannot be read again."),
    code,
    note ? h("p", { class: "muted" }, note) : null,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => (navigator.clipboard ? navigator.clipboard.writeText(secret) : Promise.reject(new Error("no clipboard"))).then(() => announce("Copied."), () => announce("Copy it by hand: the clipboard is not available here.")) }, "Copy"),
      h("button", { type: "button", onclick: () => panel.remove() }, "I have saved it")),
  );
  return panel;
}
