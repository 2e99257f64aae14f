/** Signing provider webhooks the way the providers do, for tests. */
import { base64Encode } from "../src/lib/base64";
import { twilioSignature } from "../src/channels/sms/twilio-webhook";

/** r‖s → DER SEQUENCE { INTEGER r, INTEGER s }, as SendGrid sends signatures. */
function p1363ToDer(sig: Uint8Array): Uint8Array {
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let b = bytes.subarray(i);
    if (b[0]! & 0x80) b = Uint8Array.from([0, ...b]);
    return [0x02, b.length, ...b];
  };
  const body = [...int(sig.subarray(0, 32)), ...int(sig.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

export async function sendgridSigner() {
  const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = base64Encode((await crypto.subtle.exportKey("spki", keys.publicKey)) as ArrayBuffer);
  return {
    verificationKey: spki,
    async headers(body: string, timestamp = Math.floor(Date.now() / 1000)) {
      const sig = new Uint8Array(
        await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new TextEncoder().encode(`${timestamp}${body}`)),
      );
      return {
        "content-type": "application/json",
        "x-twilio-email-event-webhook-signature": base64Encode(p1363ToDer(sig)),
        "x-twilio-email-event-webhook-timestamp": String(timestamp),
      };
    },
  };
}

export async function twilioHeaders(authToken: string, url: string, form: URLSearchParams) {
  return { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": await twilioSignature(authToken, url, form) };
}
