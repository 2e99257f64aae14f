/**
 * The admin console (`/console/`): static HTML, CSS and JS from src/console, served through the
 * Worker's ASSETS binding so that every file carries the same strict security headers. The page
 * holds no data itself; it signs in with a tenant API key and calls /api like any client.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { AppError } from "../../lib/errors";

/**
 * Scripts only from our own origin, no inline script, no eval. Inline styles are allowed because
 * an email's HTML, shown in a sandboxed `<iframe srcdoc>`, inherits this policy and is styled
 * inline; remote images stay blocked there, so viewing a message never fires its open pixel.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

export const consolePages = new Hono<AppEnv>()
  .get("/console", (c) => c.redirect("/console/", 308))
  .get("/console/*", async (c) => {
    if (!c.env.ASSETS) throw new AppError("not_found", "the console is not bound on this Worker (ASSETS)");
    // The asset directory is the console itself: /console/app.js is app.js there.
    const url = new URL(c.req.url);
    url.pathname = url.pathname.slice("/console".length);
    const asset = await c.env.ASSETS.fetch(new Request(url, { headers: c.req.raw.headers }));
    const res = new Response(asset.body, asset);
    // The asset router's own redirects (e.g. /index.html → /) point back under /console.
    const location = res.headers.get("location");
    if (location?.startsWith("/")) res.headers.set("location", `/console${location}`);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value);
    return res;
  });
