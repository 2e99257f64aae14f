/**
 * Signing our outbound webhooks per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64 part of a `whsec_` secret.
 */
import { hmac } from "./crypto";
import { base64Decode, base64Encode } from "./base64";

export const newWebhookSecret = () => `whsec_${base64Encode(crypto.getRandomValues(new Uint8Array(24)))}`;

export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string) {
  const key = base64Decode(secret.replace(/^whsec_/, ""));
  const signature = base64Encode(await hmac("SHA-256", key, `${id}.${timestampSeconds}.${body}`));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `v1,${signature}`,
  };
}
