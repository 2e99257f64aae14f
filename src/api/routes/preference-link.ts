/**
 * `GET /api/recipients/:type/:id/preference-link?expiresIn=<seconds>`: a signed, expiring link to
 * the hosted preference center (src/api/routes/preference-center.ts) for one recipient, for the
 * tenant to put in its emails. A GET because it writes nothing, yet it needs `preferences:write`:
 * whoever holds the link may change that recipient's preferences.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { parseWith, queryOf } from "../validate";
import { Recipient } from "./preferences";
import { DEFAULT_LINK_SECONDS, MAX_LINK_SECONDS, mintPreferenceLink } from "../../preferences/link";

export const LinkQuery = z
  .object({
    /** Seconds until the link stops working. */
    expiresIn: z.coerce.number().int().min(300).max(MAX_LINK_SECONDS).default(DEFAULT_LINK_SECONDS),
  })
  .strict();

export const preferenceLink = new Hono<AppEnv>().get("/:type/:id/preference-link", async (c) => {
  const { type, id } = c.req.param();
  const r = parseWith(Recipient, { entityType: type, entityId: id });
  const { expiresIn } = queryOf(c, LinkQuery);
  const expiresAt = new Date(Date.now() + expiresIn * 1000);
  const { url } = await mintPreferenceLink(c.var.config.encryptionKey, c.var.config.publicUrl, { tenantId: c.var.tenantId, ...r, expiresAt });
  return c.json({ url, expiresAt: expiresAt.toISOString() });
});
