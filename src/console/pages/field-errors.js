// Field errors for forms whose fields sit at JSON paths (`variants.1.content`,
// `steps.2.paths.0.when.0.value`): each control carries its path in `data-path`, and an error goes
// to the control at its path, or at the nearest path above it (a step's box for `steps.2`). What
// has no place goes to the form's banner, so no message the API gives is lost.
import { h } from "../dom.js";

/** A field's label, control and error slot, its control bound to `path`. */
export function pathField(label, control, path, hint) {
  control.dataset.path = path;
  control.id ||= `p-${path.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const error = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  control.setAttribute("aria-describedby", [hint ? `${control.id}-hint` : "", `${control.id}-error`].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: control.id }, label), hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null, control, error);
}

/** Clears old messages and places `errors` ([{field, message}]); `summary` heads the banner. */
export function placeErrors(form, summary, errors = []) {
  for (const p of form.querySelectorAll(".field-error")) p.hidden = true;
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  const byPath = new Map([...form.querySelectorAll("[data-path]")].map((el) => [el.dataset.path, el]));
  const unplaced = [];
  let first;
  for (const e of errors) {
    const parts = e.field.split(".");
    let el;
    for (let n = parts.length; n > 0 && !el; n--) el = byPath.get(parts.slice(0, n).join("."));
    const slot = el && form.querySelector(`#${CSS.escape(el.id)}-error`);
    if (!slot) {
      unplaced.push(`${e.field}: ${e.message}`);
      continue;
    }
    if (el.matches("input, select, textarea")) el.setAttribute("aria-invalid", "true");
    const exact = el.dataset.path === e.field;
    slot.textContent = [slot.hidden ? "" : slot.textContent, exact ? e.message : `${e.field}: ${e.message}`].filter(Boolean).join(" · ");
    slot.hidden = false;
    first ??= el;
  }
  const banner = form.querySelector(".form-error");
  const text = summary ? [summary, ...unplaced].join(" — ") : "";
  if (banner) {
    banner.textContent = text;
    banner.hidden = !text;
  }
  (first?.matches("input, select, textarea") ? first : text ? banner : first)?.focus?.();
}
