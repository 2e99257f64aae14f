/**
 * Amazon SNS message signatures (HTTP/S subscriptions). SNS signs a fixed list of the message's
 * fields, as `name\nvalue\n` pairs, with RSA PKCS#1 v1.5 — SHA-1 for `SignatureVersion` 1, SHA-256
 * for 2 — and names the X.509 certificate to check it with. Trust comes from where that
 * certificate is: only `https://sns.<region>.amazonaws.com/SimpleNotificationService-….pem` is
 * fetched (as AWS's own validators do; the chain is not walked). The certificate is parsed with
 * @peculiar/x509, which needs a Reflect metadata polyfill loaded before it (its DI container,
 * tsyringe, checks for one on import).
 */
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { z } from "zod";
import { base64Decode } from "../../lib/base64";
import { fetchWithTimeout } from "../../lib/http";

export const SnsMessage = z
  .object({
    Type: z.enum(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]),
    MessageId: z.string().min(1),
    TopicArn: z.string().min(1),
    Message: z.string(),
    Timestamp: z.string(),
    Subject: z.string().nullish(),
    SubscribeURL: z.string().optional(),
    Token: z.string().optional(),
    SignatureVersion: z.enum(["1", "2"]),
    Signature: z.string().min(1),
    SigningCertURL: z.string(),
  })
  .loose();
export type SnsMessage = z.infer<typeof SnsMessage>;

export const CERT_URL = /^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com\/SimpleNotificationService-[A-Za-z0-9]+\.pem$/;
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com$/;

export function snsStringToSign(m: SnsMessage): string {
  const keys =
    m.Type === "Notification"
      ? (["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"] as const)
      : (["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"] as const);
  return keys.map((k) => (m[k] == null ? "" : `${k}\n${m[k]}\n`)).join("");
}

/**
 * The certificate's public key (SubjectPublicKeyInfo, DER) for WebCrypto, which cannot import a
 * certificate itself. A certificate outside its validity period is refused.
 */
export function spkiOfCertificate(pem: string, now = new Date()): Uint8Array {
  const certificate = new X509Certificate(pem);
  if (now < certificate.notBefore || now > certificate.notAfter) throw new Error("the signing certificate is not valid now");
  return new Uint8Array(certificate.publicKey.rawData);
}

// Isolate-wide: a certificate URL names one certificate for good, and SNS signs every message
// of a topic with the same one, so fetching it once per isolate is enough. Bounded, and a failed
// fetch is forgotten so that the next message tries again.
const certificates = new Map<string, Promise<Uint8Array>>();
const MAX_CERTIFICATES = 16;

function signingKey(url: string): Promise<Uint8Array> {
  const cached = certificates.get(url);
  if (cached) return cached;
  const spki = fetchWithTimeout(url, {}, 5_000).then(async (res) => {
    if (!res.ok) throw new Error(`certificate fetch answered ${res.status}`);
    return spkiOfCertificate(await res.text());
  });
  spki.catch(() => certificates.get(url) === spki && certificates.delete(url));
  if (certificates.size >= MAX_CERTIFICATES) certificates.delete(certificates.keys().next().value!);
  certificates.set(url, spki);
  return spki;
}

/** Whether SNS signed this message. Never throws: an unusable certificate is a failed check. */
export async function verifySnsSignature(m: SnsMessage): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (!CERT_URL.test(m.SigningCertURL)) return { ok: false, reason: "SigningCertURL is not an SNS certificate URL" };
  try {
    const hash = m.SignatureVersion === "1" ? "SHA-1" : "SHA-256";
    const key = await crypto.subtle.importKey("spki", await signingKey(m.SigningCertURL), { name: "RSASSA-PKCS1-v1_5", hash }, false, ["verify"]);
    const ok = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, base64Decode(m.Signature), new TextEncoder().encode(snsStringToSign(m)));
    return ok ? { ok: true } : { ok: false, reason: "bad signature" };
  } catch (error) {
    return { ok: false, reason: `signature not verifiable: ${(error as Error).message}` };
  }
}

/** The subscription handshake: GET the (signed) SubscribeURL, only ever on an SNS host. */
export async function confirmSubscription(m: SnsMessage): Promise<{ ok: true } | { ok: false; reason: string }> {
  let url: URL;
  try {
    url = new URL(m.SubscribeURL ?? "");
  } catch {
    return { ok: false, reason: "SubscribeURL is missing" };
  }
  if (url.protocol !== "https:" || !SNS_HOST.test(url.hostname) || url.port || url.username) return { ok: false, reason: "SubscribeURL is not an SNS URL" };
  try {
    const res = await fetchWithTimeout(url.href, {}, 5_000);
    await res.body?.cancel();
    return res.ok ? { ok: true } : { ok: false, reason: `SNS subscription confirmation answered ${res.status}` };
  } catch (error) {
    return { ok: false, reason: `SNS subscription confirmation failed: ${(error as Error).message}` };
  }
}
