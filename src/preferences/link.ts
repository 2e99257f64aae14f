/**
 * Preference-center links (issue 22): the tenant puts `<PUBLIC_URL>/preferences/<token>` in its
 * emails, and the token is the recipient's credential for their own preferences. It names the
 * tenant and the recipient and when it stops working, signed under a key of its own
 * (src/lib/signed-token.ts), so it cannot be edited to another recipient or another tenant, nor
 * kept alive. The page's forms carry a second, short-lived token bound to the link (CSRF).
 */
import { z } from "zod";
import { signPayload, verifyPayload } from "../lib/signed-token";
import { sha256Hex } from "../lib/crypto";
import type { RecipientKey } from "../db/preferences";

const LINK = "herald preference links v1";
const FORM = "herald preference forms v1";

/** Seconds. Links sit in inboxes for a while; a month by default, three at most. */
export const DEFAULT_LINK_SECONDS = 30 * 86_400;
export const MAX_LINK_SECONDS = 90 * 86_400;
/** A form older than this asks the recipient to reload the page. */
const FORM_SECONDS = 12 * 3600;

const Link = z.object({ t: z.string().min(1), e: z.string().min(1), i: z.string().min(1), x: z.number().int() });
const Form = z.object({ l: z.string(), x: z.number().int(), n: z.string() });

export type PreferenceLink = RecipientKey & { tenantId: string; expiresAt: Date };
/** An expired link was still signed by us: it names its tenant, for the page saying so. */
export type LinkCheck = { ok: true; link: PreferenceLink } | { ok: false; reason: "invalid" } | { ok: false; reason: "expired"; tenantId: string };

export async function mintPreferenceLink(secret: string, publicUrl: string, link: PreferenceLink) {
  const token = await signPayload(secret, LINK, { t: link.tenantId, e: link.entityType, i: link.entityId, x: Math.floor(link.expiresAt.getTime() / 1000) });
  return { token, url: `${publicUrl}/preferences/${token}` };
}

export async function readPreferenceLink(secret: string, raw: string, now: Date): Promise<LinkCheck> {
  const parsed = Link.safeParse(await verifyPayload(secret, LINK, raw));
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { t, e, i, x } = parsed.data;
  if (x * 1000 <= now.getTime()) return { ok: false, reason: "expired", tenantId: t };
  return { ok: true, link: { tenantId: t, entityType: e, entityId: i, expiresAt: new Date(x * 1000) } };
}

const linkDigest = async (raw: string) => (await sha256Hex(raw)).slice(0, 32);

/** A fresh form token for one rendering of the page of this link. */
export async function mintFormToken(secret: string, rawLink: string, now: Date): Promise<string> {
  const nonce = crypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "");
  return signPayload(secret, FORM, { l: await linkDigest(rawLink), x: Math.floor(now.getTime() / 1000) + FORM_SECONDS, n: nonce });
}

/** Whether a submitted form token was minted for this link's page and is still fresh. */
export async function checkFormToken(secret: string, rawLink: string, formToken: string, now: Date): Promise<boolean> {
  const parsed = Form.safeParse(await verifyPayload(secret, FORM, formToken));
  return parsed.success && parsed.data.l === (await linkDigest(rawLink)) && parsed.data.x * 1000 > now.getTime();
}
