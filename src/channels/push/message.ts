/**
 * What a push carries beyond title and body, and the one payload every push adapter starts from.
 * Senders put the extras in `metadata.push` (validated at the API): a small string `data` map for
 * the app, a `clickUrl`, an `imageUrl`, an iOS `badge` and `sound`, and `ttlSeconds` (how long the
 * push service keeps it for an offline device). Push services cap a payload at about 4 KB, so the
 * whole payload is measured when the send is accepted, not when a provider refuses it.
 */
import { z } from "zod";
import type { DeviceRow } from "../../db/devices";

// FCM reserves these data keys (and any starting with "google" or "gcm").
const RESERVED = /^(from|notification|message_type|collapse_key|google.*|gcm.*)$/i;

export const PushExtras = z
  .object({
    data: z
      .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, "keys are 1-64 letters, digits, _ . -").refine((k) => !RESERVED.test(k), "is reserved by FCM"), z.string().max(1024))
      .refine((d) => Object.keys(d).length <= 32, "at most 32 keys")
      .optional(),
    clickUrl: z.url({ protocol: /^https$/ }).max(2048).optional(),
    imageUrl: z.url({ protocol: /^https$/ }).max(2048).optional(),
    badge: z.number().int().min(0).max(99_999).optional(),
    sound: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a sound file name or \"default\"").optional(),
    /** Push services keep undelivered messages up to 28 days. */
    ttlSeconds: z.number().int().min(0).max(28 * 24 * 3600).optional(),
  })
  .strict();
export type PushExtras = z.infer<typeof PushExtras>;

/** How long a push service keeps a message for an offline device unless the sender says. */
export const DEFAULT_TTL_SECONDS = 24 * 3600;

/**
 * The largest payload, in UTF-8 bytes: a Web Push body is at most 4096 bytes, of which the
 * aes128gcm header takes 86 (salt, record size, sender key) and the record 17 (delimiter, tag).
 * FCM and APNs allow 4096 bytes of their own JSON, which wraps about as much.
 */
export const MAX_PUSH_PAYLOAD_BYTES = 4096 - 86 - 17;

/** What push delivery hands an adapter: the device, the extras and whether it is urgent. */
export type PushTarget = {
  device: Pick<DeviceRow, "id" | "platform" | "transport" | "address" | "p256dh" | "auth">;
  extras: PushExtras;
  urgent: boolean;
};

export const pushExtrasOf = (metadata: Record<string, unknown> | null | undefined): PushExtras => {
  const parsed = PushExtras.safeParse(metadata?.push ?? {});
  return parsed.success ? parsed.data : {};
};

/** The JSON a browser's service worker (Web Push) receives; the other adapters map the same fields. */
export function pushPayload(m: { communicationId: string; subject: string | null; content: string }, extras: PushExtras) {
  return {
    id: m.communicationId,
    ...(m.subject ? { title: m.subject } : {}),
    body: m.content,
    ...(extras.data ? { data: extras.data } : {}),
    ...(extras.clickUrl ? { clickUrl: extras.clickUrl } : {}),
    ...(extras.imageUrl ? { imageUrl: extras.imageUrl } : {}),
    ...(extras.badge !== undefined ? { badge: extras.badge } : {}),
  };
}

/** Why this push is too large for the push services, or undefined when it fits. */
export function pushTooLarge(m: { communicationId: string; subject: string | null; content: string }, metadata: Record<string, unknown> | null | undefined) {
  const bytes = new TextEncoder().encode(JSON.stringify(pushPayload(m, pushExtrasOf(metadata)))).length;
  return bytes > MAX_PUSH_PAYLOAD_BYTES ? `the push payload (title, body and metadata.push) is ${bytes} bytes; push services take at most ${MAX_PUSH_PAYLOAD_BYTES}` : undefined;
}
