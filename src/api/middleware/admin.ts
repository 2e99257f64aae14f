/** Operator authentication for /admin: the ADMIN_TOKEN secret, compared in constant time. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { sha256Hex } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { bearerToken } from "./api-key";

export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const expected = c.var.config.adminToken;
    const given = bearerToken(c.req.header("authorization"));
    // Hashing both sides gives equal-length inputs, so the comparison time says nothing.
    const ok =
      expected !== undefined &&
      given !== undefined &&
      crypto.subtle.timingSafeEqual(
        new TextEncoder().encode(await sha256Hex(given)),
        new TextEncoder().encode(await sha256Hex(expected)),
      );
    if (!ok) throw new AppError("unauthorized", expected ? "invalid admin token" : "the admin API is disabled: set ADMIN_TOKEN");
    await next();
  };
}
