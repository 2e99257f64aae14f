// The console's shell: sign-in, navigation and a hash router (#/history, #/communications/<id>,
// #/templates …). Each page is a module exporting `render(view, params)`.
import { api, ApiError, onUnauthorized, session } from "./api.js";
import { clearToast, h } from "./dom.js";
import * as history from "./pages/history.js";
import * as detail from "./pages/detail.js";
import * as send from "./pages/send.js";
import * as templates from "./pages/templates.js";
import * as preferences from "./pages/preferences.js";
import * as providers from "./pages/providers.js";
import * as suppressions from "./pages/suppressions.js";
import * as stats from "./pages/stats.js";
import * as audiences from "./pages/audiences.js";
import * as campaigns from "./pages/campaigns.js";
import * as workflows from "./pages/workflows.js";
import * as conversations from "./pages/conversations.js";
import * as keys from "./pages/keys.js";
import * as webhooks from "./pages/webhooks.js";
import * as audit from "./pages/audit.js";
import * as settings from "./pages/settings.js";

const ROUTES = [
  [/^#\/history(?:\?(.*))?$/, history],
  [/^#\/communications\/([^/?]+)$/, detail],
  [/^#\/send$/, send],
  [/^#\/templates(?:\/([^/?]+))?(?:\?.*)?$/, templates],
  [/^#\/preferences(?:\/([^/]+)\/([^/?]+))?$/, preferences],
  [/^#\/providers$/, providers],
  [/^#\/suppressions$/, suppressions],
  [/^#\/stats$/, stats],
  [/^#\/audiences(?:\/([^/?]+))?(?:\?(.*))?$/, audiences],
  [/^#\/campaigns(?:\/([^/?]+))?(?:\?.*)?$/, campaigns],
  [/^#\/workflows(?:\/([^/?]+))?(?:\/runs\/([^/?]+))?(?:\?(.*))?$/, workflows],
  [/^#\/conversations(?:\/([^/?]+))?(?:\?(.*))?$/, conversations],
  [/^#\/keys$/, keys],
  [/^#\/webhooks(?:\/([^/?]+))?$/, webhooks],
  [/^#\/audit(?:\?(.*))?$/, audit],
  [/^#\/settings$/, settings],
];

const $ = (id) => document.getElementById(id);

function signedIn(yes) {
  $("sign-in").hidden = yes;
  $("nav").hidden = !yes;
  $("sign-out").hidden = !yes;
  $("view").hidden = !yes;
}

async function route() {
  // A message belongs to the page it was shown on (unless its caller carries it to the next).
  clearToast({ navigating: true });
  if (!session.get()) {
    signedIn(false);
    $("view").replaceChildren();
    $("api-key").focus();
    return;
  }
  signedIn(true);
  const hash = location.hash || "#/history";
  const match = ROUTES.map(([re, page]) => [hash.match(re), page]).find(([m]) => m);
  for (const a of $("nav").querySelectorAll("a")) {
    const here = hash.startsWith(a.getAttribute("href")) || (a.getAttribute("href") === "#/history" && hash.startsWith("#/communications/"));
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const view = $("view");
  const loading = h("p", { class: "muted" }, "Loading…");
  view.replaceChildren(loading);
  if (!match) {
    view.replaceChildren(h("h1", { tabindex: -1 }, "Not found"), h("p", {}, h("a", { href: "#/history" }, "Back to the history")));
  } else {
    const [m, page] = match;
    try {
      await page.render(view, m.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p))));
    } catch (error) {
      view.replaceChildren(h("h1", { tabindex: -1 }, "Something went wrong"), h("p", { class: "form-error", role: "alert" }, error instanceof ApiError ? error.message : String(error)));
    }
  }
  // Moving focus to the new page's heading tells keyboard and screen-reader users it changed.
  view.querySelector("h1")?.setAttribute("tabindex", "-1");
  if (document.activeElement === document.body || !view.contains(document.activeElement)) view.querySelector("h1")?.focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("api-key");
  const error = $("api-key-error");
  const key = input.value.trim();
  const fail = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };
  if (!key) return fail("Enter an API key.");
  try {
    // Any authenticated read proves the key; a scoped key without this scope (403) is still valid.
    await api("GET", "/api/communications?size=1", undefined, key);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status === 401) return fail(e instanceof ApiError ? "That API key was not accepted." : `Cannot reach the API: ${e.message}`);
    if (e.status !== 403) return fail(e.message);
  }
  error.hidden = true;
  input.removeAttribute("aria-invalid");
  input.value = "";
  session.set(key);
  if (!location.hash || location.hash === "#") location.hash = "#/history";
  else route();
});

$("sign-out").addEventListener("click", () => {
  session.clear();
  location.hash = "";
  route();
});

onUnauthorized.addEventListener("unauthorized", () => {
  session.clear();
  route();
});

$("toast-close").addEventListener("click", () => clearToast());

window.addEventListener("hashchange", route);
route();
conversations.watchUnread();
