// Template variables as a form: one labelled input per variable the template declares, plus rows
// for any other name the user adds. Values that read as JSON numbers, booleans, arrays or objects
// are sent as such ("3" → 3, "[1,2]" → [1, 2]); everything else is a string.
import { h } from "./dom.js";

const typed = (v) => {
  if (!/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(v.trim())) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

let ids = 0;

/** `{ element, value(), setNames(names) }`; `onChange` runs on every edit (live previews). */
export function variablesEditor(names, onChange, legend = "Template variables") {
  const rows = h("div", { class: "variables" });
  const row = (name, fixed) => {
    const id = `var${++ids}`;
    const value = h("input", { id, "data-variable": name, autocomplete: "off", spellcheck: false, oninput: onChange });
    if (fixed) return h("div", { class: "field variable" }, h("label", { for: id }, name), value);
    const key = h("input", { "aria-label": "Variable name", class: "variable-name", placeholder: "name", spellcheck: false, oninput: (e) => {
      value.dataset.variable = e.target.value.trim();
      onChange();
    } });
    value.setAttribute("aria-label", "Variable value");
    return h("div", { class: "field variable extra" }, key, value, h("button", { type: "button", class: "secondary", "aria-label": "Remove this variable", onclick: (e) => {
      e.target.closest(".variable").remove();
      onChange();
    } }, "Remove"));
  };
  const add = h("button", { type: "button", class: "secondary", onclick: () => {
    const r = row("", false);
    rows.append(r);
    r.querySelector("input").focus();
  } }, "Add a variable");
  const element = h("fieldset", { class: "variables-editor" }, h("legend", {}, legend), rows, add);
  const setNames = (list) => {
    rows.replaceChildren(...list.map((n) => row(n, true)));
    if (!list.length) rows.append(h("p", { class: "hint" }, "This template declares no variables; add any it uses."));
  };
  setNames(names);
  const value = () => {
    const out = {};
    for (const input of element.querySelectorAll("input[data-variable]")) if (input.dataset.variable && input.value !== "") out[input.dataset.variable] = typed(input.value);
    return out;
  };
  return { element, value, setNames };
}
