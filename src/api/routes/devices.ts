/**
 * A recipient's push devices (issue 6): `POST /api/recipients/:type/:id/devices` registers one (an
 * FCM or APNs token, or a browser's Web Push subscription as `PushSubscription.toJSON()` gives it),
 * `GET` lists them, `DELETE .../devices/:deviceId` removes one. Registering a known token or
 * endpoint again refreshes it (200) instead of adding a second device (201), so an app may
 * register on every launch. Push delivery also removes devices the push service calls dead.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../context";
import { iso } from "../dto";
import { jsonBody, parseWith } from "../validate";
import { runBatch } from "../../db/client";
import { deleteDevice, devicesOf, trimDevices, upsertDevice, type DeviceRow } from "../../db/devices";
import type { RecipientRef } from "../../db/recipients";
import { PLATFORMS } from "../../db/schema/devices";
import { notFound } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { unsafeUrlReason } from "../../lib/url-guard";

/** Stale tokens pile up as apps are reinstalled; the least recently seen beyond this go. */
export const MAX_DEVICES_PER_RECIPIENT = 20;

const Recipient = z.object({ type: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a lowercase slug"), id: z.string().min(1).max(255) });
const b64url = (bytes: number, what: string) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}={0,2}$`), `the ${what}, ${bytes} bytes base64url`);

export const Register = z
  .object({
    platform: z.enum(PLATFORMS),
    /** An FCM registration token (default) or, with transport "apns", an APNs device token. */
    token: z.string().min(1).max(4096).optional(),
    transport: z.enum(["fcm", "apns"]).default("fcm"),
    subscription: z
      .object({
        endpoint: z
          .url({ protocol: /^https$/ })
          .max(2048)
          .refine((u) => !unsafeUrlReason(u, false), { message: "must be a public https push service URL" }),
        keys: z.object({ p256dh: b64url(65, "subscription's P-256 public key"), auth: b64url(16, "subscription's auth secret") }).strict(),
        expirationTime: z.number().nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (!b.token === !b.subscription) issue("token", "give a token (FCM or APNs) or a Web Push subscription, not both");
    if (b.subscription && b.platform !== "web") issue("subscription", "Web Push subscriptions come from browsers: platform must be web");
    if (b.token && b.transport === "apns" && b.platform !== "ios") issue("transport", "APNs tokens come from iOS devices: platform must be ios");
    if (b.token && b.transport === "apns" && !/^[0-9a-fA-F]{64,200}$/.test(b.token)) issue("token", "an APNs device token is hex (64 characters)");
    if (b.token && b.transport === "fcm" && !/^[A-Za-z0-9_:.-]{20,4096}$/.test(b.token)) issue("token", "not an FCM registration token");
  });

export function deviceDto(d: DeviceRow) {
  return {
    id: d.id,
    recipientType: d.recipientType,
    recipientId: d.recipientId,
    platform: d.platform,
    transport: d.transport,
    ...(d.transport === "webpush" ? { endpoint: d.address } : { token: d.address }),
    createdAt: iso(d.createdAt),
    lastSeenAt: iso(d.lastSeenAt),
  };
}

const recipientOf = (c: { req: { param(): Record<string, string> }; var: AppEnv["Variables"] }): RecipientRef => {
  const { type, id } = parseWith(Recipient, { type: c.req.param().type, id: c.req.param().id });
  return { tenantId: c.var.tenantId, recipientType: type, recipientId: id };
};

export const devices = new Hono<AppEnv>()
  .post("/:type/:id/devices", async (c) => {
    const r = recipientOf(c);
    const body = await jsonBody(c, Register);
    const now = new Date();
    const row: DeviceRow = {
      id: uuidv7(now.getTime()),
      ...r,
      platform: body.platform,
      transport: body.subscription ? "webpush" : body.transport,
      address: body.subscription?.endpoint ?? body.token!,
      p256dh: body.subscription?.keys.p256dh.replace(/=+$/, "") ?? null,
      auth: body.subscription?.keys.auth.replace(/=+$/, "") ?? null,
      createdAt: now,
      lastSeenAt: now,
    };
    const [saved] = await runBatch(c.var.db, [upsertDevice(c.var.db, row), trimDevices(c.var.db, r, MAX_DEVICES_PER_RECIPIENT)]);
    const device = (saved as DeviceRow[])[0]!;
    // A refresh keeps its row (and id): only a new device has the creation time we just chose.
    return c.json(deviceDto(device), device.id === row.id ? 201 : 200);
  })
  .get("/:type/:id/devices", async (c) => {
    const rows = await devicesOf(c.var.db, recipientOf(c));
    return c.json({ results: rows.map(deviceDto) });
  })
  .delete("/:type/:id/devices/:deviceId", async (c) => {
    if (!(await deleteDevice(c.var.db, recipientOf(c), c.req.param("deviceId")))) throw notFound("device");
    return c.body(null, 204);
  });
