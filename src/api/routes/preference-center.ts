/**
 * The hosted preference center (issue 22): `GET /preferences/:token` shows a recipient their
 * choices, `POST /preferences/:token` saves them through the API's own write
 * (src/api/preference-writes.ts), consent records included (source `preference_center`). The
 * signed link is the credential; each rendered form carries a token bound to it, and a
 * cross-origin POST is refused (CSRF). Browsers get HTML pages, JSON clients problem+json.
 */
import { Hono, type Context } from "hono";
import type { AppEnv } from "../context";
import { auditEntry } from "../audit";
import { problem } from "../problem";
import { fieldErrors } from "../validate";
import { writePreferences, type PreferenceWriter } from "../preference-writes";
import { PatchPreferences } from "./preferences";
import { insertAudit } from "../../db/audit";
import { centerReads, tenantBrand } from "../../db/preference-center";
import type { TenantSettings } from "../../db/schema";
import { base64Encode } from "../../lib/base64";
import type { FieldError } from "../../lib/errors";
import { policyOf } from "../../preferences/policy";
import { centerChange, centerChoices, centerView, viewOfForm, type FormFields } from "../../preferences/center";
import { CENTER_SCRIPT, centerPage, messagePage, type Brand } from "../../preferences/center-page";
import { checkFormToken, mintFormToken, readPreferenceLink, type PreferenceLink } from "../../preferences/link";

type C = Context<AppEnv>;
type Tenant = { name: string; settings: TenantSettings | null };

const HERALD: Brand = { name: "Notification preferences", logoUrl: null, primaryColor: null };
const brandOf = (t: Tenant | undefined): Brand =>
  t ? { name: t.settings?.branding?.name ?? t.name, logoUrl: t.settings?.branding?.logoUrl ?? null, primaryColor: t.settings?.branding?.primaryColor ?? null } : HERALD;

// The script is a constant: its hash is computed once per isolate.
let scriptHash: Promise<string> | undefined;
const hashOfScript = () => (scriptHash ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(CENTER_SCRIPT)).then((d) => `'sha256-${base64Encode(d)}'`));

const wantsHtml = (c: C) => (c.req.header("accept") ?? "").includes("text/html");

/** A refusal as the caller reads it: a page for a person, problem+json for a program. */
async function refuse(c: C, status: 400 | 403 | 404 | 410, code: string, title: string, detail: string, brand = HERALD) {
  if (wantsHtml(c)) return c.html(messagePage(brand, title, detail), status);
  return problem(status, code, detail, c.var.requestId ?? "");
}

/** The link's recipient, or the response refusing it. */
async function linkOf(c: C): Promise<PreferenceLink | Response> {
  const check = await readPreferenceLink(c.var.config.encryptionKey, c.req.param("token")!, new Date());
  if (check.ok) return check.link;
  if (check.reason === "invalid") return refuse(c, 404, "not_found", "This link does not work", "The preferences link is incomplete or was changed. Use the link from your most recent message.");
  const [tenant] = await tenantBrand(c.var.db, check.tenantId);
  return refuse(c, 410, "link_expired", "This link has expired", "Preferences links stop working after a while. Use the link from your most recent message, or ask the sender for a new one.", brandOf(tenant));
}

async function load(c: C, link: PreferenceLink) {
  const [[tenant], [pref], templates, providers, sent] = await centerReads(c.var.db, link.tenantId, link);
  const policy = policyOf(tenant?.settings);
  return { tenant, pref, policy, choices: centerChoices(pref, policy, [...templates, ...providers, ...sent]) };
}

const unknownSender = (c: C) => refuse(c, 404, "not_found", "This link does not work", "The sender of this link no longer uses this service.");

type Loaded = Awaited<ReturnType<typeof load>>;

/**
 * The page; after a refused POST, as the recipient filled it in, with the errors beside the
 * fields. It renders what `load` read, so a refused POST does not read everything again.
 */
async function render(c: C, { tenant, pref, policy, choices }: Loaded, refused?: { form: FormFields; errors: FieldError[] }) {
  if (!tenant) return unknownSender(c);
  const raw = c.req.param("token")!;
  const view = centerView(pref, policy, choices);
  const page = centerPage({
    brand: brandOf(tenant),
    view: refused ? viewOfForm(view, refused.form) : view,
    action: `/preferences/${raw}`,
    formToken: await mintFormToken(c.var.config.encryptionKey, raw, new Date()),
    saved: c.req.query("saved") === "1" && !refused,
    errors: refused?.errors ?? [],
  });
  return c.html(page, refused ? 400 : 200);
}

/** Writes by the recipient on this page, audited as such. */
const recipientWriter = (c: C, tenantId: string): PreferenceWriter => ({
  db: c.var.db,
  tenantId,
  encryptionKey: c.var.config.encryptionKey,
  audit: (action, facts) => insertAudit(c.var.db, { ...auditEntry(c, action, { tenantId, ...facts }), actorType: "recipient", actorId: null, actorName: "preference center" }),
});

/** A 400 naming the fields: the page again with the messages, or problem+json. */
const invalid = (c: C, loaded: Loaded, form: FormFields, errors: FieldError[]) =>
  wantsHtml(c) ? render(c, loaded, { form, errors }) : problem(400, "bad_request", `invalid form: ${errors.map((e) => e.field).join(", ")}`, c.var.requestId ?? "", errors);

export const preferenceCenter = new Hono<AppEnv>()
  .use(async function centerHeaders(c, next) {
    await next();
    // The URL is the recipient's credential: never cached, framed, or sent to another site as a
    // referrer. (Not no-referrer: Chromium then sends `Origin: null` with the form's own POST.)
    c.res.headers.set("cache-control", "no-store");
    c.res.headers.set("referrer-policy", "same-origin");
    c.res.headers.set("x-robots-tag", "noindex");
    c.res.headers.set(
      "content-security-policy",
      `default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; script-src ${await hashOfScript()}; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
  })
  .get("/:token", async (c) => {
    const link = await linkOf(c);
    return link instanceof Response ? link : render(c, await load(c, link));
  })
  .post("/:token", async (c) => {
    const link = await linkOf(c);
    if (link instanceof Response) return link;
    const origin = c.req.header("origin");
    if (origin && origin !== new URL(c.req.url).origin && origin !== new URL(c.var.config.publicUrl).origin) {
      return refuse(c, 403, "forbidden", "This form was sent from another site", "Open your preferences link and save from that page.");
    }
    const form: FormFields = await c.req.parseBody({ all: true });
    const formToken = typeof form.form === "string" ? form.form : "";
    const now = new Date();
    if (!(await checkFormToken(c.var.config.encryptionKey, c.req.param("token"), formToken, now))) {
      return refuse(c, 403, "forbidden", "This form has expired", "Reload the page and make your changes again.");
    }
    const loaded = await load(c, link);
    const { tenant, pref, policy, choices } = loaded;
    if (!tenant) return unknownSender(c);
    const change = centerChange(form, pref, policy);
    if (!change.ok) return invalid(c, loaded, form, change.errors);
    // The API's own schema checks the values (time zone, times) exactly as a PATCH would.
    const parsed = PatchPreferences.safeParse(change.patch);
    if (!parsed.success) return invalid(c, loaded, form, fieldErrors(parsed.error));
    const source = { scope: "all", source: "preference_center", ip: c.req.header("cf-connecting-ip")?.slice(0, 64), userAgent: c.req.header("user-agent")?.slice(0, 500) } as const;
    const unchanged = !Object.keys(parsed.data).length && !change.consents.length;
    const recipient = { entityType: link.entityType, entityId: link.entityId };
    const consents = change.consents.map((x) => ({ ...x, ...source }));
    const row = unchanged ? undefined : (await writePreferences(recipientWriter(c, link.tenantId), recipient, parsed.data, consents, now, { found: pref, settings: tenant.settings })).row;
    if (wantsHtml(c)) return c.redirect(`/preferences/${c.req.param("token")}?saved=1`, 303);
    // What the page shows, not the whole row: the link may be forwarded, and contacts stay out.
    return c.json({ saved: !unchanged, preferences: centerView(row ?? pref, policy, choices) });
  });
