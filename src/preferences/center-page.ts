/**
 * The hosted preference center's HTML: one server-rendered form that works without JavaScript,
 * plus a small script that saves in place when JavaScript runs. Everything the tenant or the
 * recipient controls goes through hono/html's escaping. The tenant's colour is darkened where
 * needed to stay readable (src/lib/colour.ts); no referrer leaves for another site, since the
 * page's URL is the recipient's credential and the tenant's logo may be served from anywhere.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { FieldError } from "../lib/errors";
import { readableOnWhite } from "../lib/colour";
import { CHANNEL_LABELS, typeLabel, type CenterView } from "./center";

export type Brand = { name: string; logoUrl: string | null; primaryColor: string | null };

const DEFAULT_ACCENT = "#1d4ed8";
const HEX = /^#[0-9a-fA-F]{6}$/;
// The runtime's list lacks the plain "UTC" most defaults use.
const TIME_ZONES = ["UTC", ...Intl.supportedValuesOf("timeZone")];

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;color:#1f2933;background:#fff;margin:0}
header{display:flex;align-items:center;gap:.75rem;padding:1rem;border-bottom:4px solid var(--accent)}
header img{max-height:48px;max-width:160px}
.brand{font-weight:600;font-size:1.1rem;margin:0}
main{max-width:40rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.6rem;margin:1rem 0}
fieldset{border:1px solid #cbd2d9;border-radius:8px;margin:0 0 1.25rem;padding:.75rem 1rem 1rem}
fieldset fieldset{border-color:#e4e7eb;margin:.5rem 0}
legend{font-weight:600;padding:0 .25rem}
.hint{color:#52606d;margin:.25rem 0 .75rem}
.choice{display:flex;align-items:center;gap:.5rem;margin:.35rem 0}
.choices{display:flex;flex-wrap:wrap;gap:0 1.5rem}
input[type=checkbox]{width:1.15rem;height:1.15rem;accent-color:var(--accent)}
label.field{display:block;font-weight:500;margin:.5rem 0 .2rem}
input[type=time],select{font:inherit;padding:.4rem .5rem;border:1px solid #7b8794;border-radius:6px;min-width:10rem;background:#fff;color:#1f2933}
[aria-invalid=true]{border-color:#b42318;border-width:2px}
.field-error{color:#b42318;margin:.2rem 0}
button{font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:6px;padding:.65rem 1.4rem;cursor:pointer}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.notice{border-left:4px solid var(--accent);background:#f5f7fa;padding:.6rem .9rem}
.errors{border:2px solid #b42318;border-radius:8px;padding:.6rem 1rem;margin-bottom:1rem}
.errors h2{font-size:1.05rem;margin:.2rem 0}
fieldset:disabled{opacity:.6}
`;

/** The page's one script, inline; the route allows it by its hash (Content-Security-Policy). */
export const CENTER_SCRIPT = `
const form = document.getElementById("preferences");
const status = document.getElementById("status");
const optOut = document.getElementById("opt-out");
const sync = () => { for (const f of form.querySelectorAll("fieldset[data-choices]")) f.disabled = optOut.checked; };
optOut.addEventListener("change", sync);
sync();
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  status.textContent = "Saving…";
  try {
    const res = await fetch(form.action, { method: "POST", headers: { accept: "application/json" }, body: new URLSearchParams(new FormData(form)) });
    const body = await res.json();
    status.textContent = res.ok ? "Your preferences are saved." : (body.errors || []).map((e) => e.message).join(" ") || body.detail;
  } catch {
    status.textContent = "Could not save. Check your connection and try again.";
  }
});
`;

function layout(brand: Brand, title: string, body: Html): Html {
  const accent = readableOnWhite(brand.primaryColor && HEX.test(brand.primaryColor) ? brand.primaryColor : DEFAULT_ACCENT);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex">
<title>${title} · ${brand.name}</title>
<style>:root{--accent:${accent}}${raw(STYLE)}</style>
</head>
<body>
<header>${brand.logoUrl ? html`<img src="${brand.logoUrl}" alt="">` : ""}<p class="brand">${brand.name}</p></header>
<main>${body}</main>
</body>
</html>`;
}

/** A page that only says something: an expired or broken link, a form to reload. */
export const messagePage = (brand: Brand, title: string, message: string) => layout(brand, title, html`<h1>${title}</h1><p>${message}</p>`);

export type CenterPageProps = {
  brand: Brand;
  view: CenterView;
  action: string;
  formToken: string;
  saved: boolean;
  errors: FieldError[];
};

const errorFor = (errors: FieldError[], field: string) => errors.find((e) => e.field === field);
const fieldId = (field: string) => `field-${field.replace(/\W+/g, "-")}`;

function timeField(errors: FieldError[], field: string, label: string, value: string | undefined) {
  const error = errorFor(errors, field);
  const id = fieldId(field);
  return html`<label class="field" for="${id}">${label}</label>
<input type="time" id="${id}" name="${field}" value="${value ?? ""}"${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ""}>
${error ? html`<p class="field-error" id="${id}-error">${error.message}</p>` : ""}`;
}

export function centerPage(p: CenterPageProps): Html {
  const { view, errors } = p;
  const zones = TIME_ZONES.includes(view.timezone) ? TIME_ZONES : [view.timezone, ...TIME_ZONES];
  const zoneError = errorFor(errors, "timezone");
  const body = html`<h1>Notification preferences</h1>
<p id="status" role="status" aria-live="polite">${p.saved ? "Your preferences are saved." : ""}</p>
${errors.length
    ? html`<div class="errors" role="alert"><h2>Your changes were not saved</h2><ul>${errors.map((e) => html`<li><a href="#${fieldId(e.field)}">${e.message}</a></li>`)}</ul></div>`
    : ""}
<form id="preferences" method="post" action="${p.action}">
<input type="hidden" name="form" value="${p.formToken}">
${view.channels.map((c) => html`<input type="hidden" name="shown.channel" value="${c.channel}">`)}
${view.types.map((t) => html`<input type="hidden" name="shown.type" value="${t.type}">`)}
<fieldset data-choices>
<legend>Channels</legend>
<p class="hint">Untick a channel to get nothing on it.</p>
<div class="choices">${view.channels.map(
    (c) => html`<div class="choice"><input type="checkbox" id="channel-${c.channel}" name="channels" value="${c.channel}"${c.enabled ? " checked" : ""}><label for="channel-${c.channel}">${CHANNEL_LABELS[c.channel]}</label></div>`,
  )}</div>
</fieldset>
${view.types.length
    ? html`<fieldset data-choices>
<legend>What you get, and where</legend>
<p class="hint">Some messages, such as password resets and security alerts, always arrive.</p>
${view.types.map(
  (t, i) => html`<fieldset><legend>${typeLabel(t.type)}</legend><div class="choices">${t.channels.map(
    (c) =>
      html`<div class="choice"><input type="checkbox" id="type-${i}-${c.channel}" name="type.${t.type}" value="${c.channel}"${c.checked ? " checked" : ""}><label for="type-${i}-${c.channel}">${CHANNEL_LABELS[c.channel]}</label></div>`,
  )}</div></fieldset>`,
)}
</fieldset>`
    : ""}
<fieldset data-choices>
<legend>Quiet hours</legend>
<p class="hint">Messages that can wait are held between these times; urgent ones still arrive. Leave both empty for none.</p>
${timeField(errors, "quietHours.start", "From", view.quietHours?.start)}
${timeField(errors, "quietHours.end", "Until", view.quietHours?.end)}
<label class="field" for="${fieldId("timezone")}">Time zone</label>
<select id="${fieldId("timezone")}" name="timezone"${zoneError ? html` aria-invalid="true" aria-describedby="${fieldId("timezone")}-error"` : ""}>
${zones.map((z) => html`<option${z === view.timezone ? " selected" : ""}>${z}</option>`)}
</select>
${zoneError ? html`<p class="field-error" id="${fieldId("timezone")}-error">${zoneError.message}</p>` : ""}
</fieldset>
<fieldset>
<legend>Unsubscribe</legend>
<div class="choice"><input type="checkbox" id="opt-out" name="optOut" value="on"${view.optedOut ? " checked" : ""}><label for="opt-out">Unsubscribe from everything</label></div>
<p class="hint">You will get no messages at all from ${p.brand.name}, not even receipts or security alerts.</p>
</fieldset>
<button type="submit">Save preferences</button>
</form>
<script type="module">${raw(CENTER_SCRIPT)}</script>`;
  return layout(p.brand, "Notification preferences", body);
}
