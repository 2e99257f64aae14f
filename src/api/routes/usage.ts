/**
 * GET /api/usage: this month's sends per channel against the tenant's quotas, when the counts
 * reset, and the API rate limit in force. Counts are communications accepted this UTC month.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { tenantLimiter } from "../../durable/client";

export const usage = new Hono<AppEnv>().get("/", async (c) => {
  const limiter = tenantLimiter(c.env.LIMITER, c.var.tenantId);
  const [current, limits] = await Promise.all([limiter.usage(), limiter.limits()]);
  return c.json({ ...current, rateLimit: limits.rateLimit });
});
