/** The tenant's own settings: `GET/PATCH /api/settings`. */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { jsonBody } from "../validate";
import { tenantSettings, updateTenantSettings } from "../../db/tenants";

const Settings = z
  .object({
    tracking: z.enum(["provider", "herald", "off"]).optional(),
  })
  .strict();

const withDefaults = (s: z.infer<typeof Settings> | null | undefined) => ({ tracking: s?.tracking ?? "provider" });

export const settings = new Hono<AppEnv>()
  .get("/", async (c) => {
    const [row] = await tenantSettings(c.var.db, c.var.tenantId);
    return c.json(withDefaults(row?.settings));
  })
  .patch("/", async (c) => {
    const patch = await jsonBody(c, Settings);
    const [row] = await tenantSettings(c.var.db, c.var.tenantId);
    const updated = await updateTenantSettings(c.var.db, c.var.tenantId, { ...(row?.settings ?? {}), ...patch });
    return c.json(withDefaults(updated?.settings));
  });
