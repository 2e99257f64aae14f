/**
 * Provider webhooks (`/webhooks/:provider/:configId` and `/inbound`) are open to the internet and
 * proven only by the provider's signature. Random paths, bodies and headers — unsigned, forged or
 * correctly signed — must get a 2xx or a 4xx problem, never a 500; and nothing may change unless
 * the signature is valid.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { captureEvents, captureQueue, mockProviders, runDelivery, sendgridAccepts, twilioAccepts } from "../helpers";
import { sendgridSigner, twilioHeaders } from "../signing";
import {
  contentType,
  created,
  fuzzTenant,
  itLeakedNoSecret,
  nastyJson,
  nastyNumber,
  nastyString,
  probe,
  providersWithSecrets,
  runs,
} from "./fuzz";

const SG_SIGNATURE = "x-twilio-email-event-webhook-signature";
const SG_TIMESTAMP = "x-twilio-email-event-webhook-timestamp";
const PHONE = "+14155550123";

let key = "";
let signer: Awaited<ReturnType<typeof sendgridSigner>>;
let authToken = "";
let sendgridUrl = "";
let twilioUrl = "";
const comm = { email: "", sms: "" };

beforeAll(async () => {
  const queue = captureQueue();
  captureEvents();
  ({ key } = await fuzzTenant());
  signer = await sendgridSigner();
  const p = await providersWithSecrets(key, { webhookVerificationKey: signer.verificationKey });
  authToken = p.authToken;
  sendgridUrl = p.sendgrid.webhookUrl;
  twilioUrl = p.twilio.webhookUrl;
  comm.email = (await created("POST", "/api/communications/send", key, { channel: "email", recipientContact: "ann@acme.test", subject: "s", content: "c" })).id;
  comm.sms = (await created("POST", "/api/communications/send", key, { channel: "sms", recipientContact: PHONE, content: "c" })).id;
  const net = mockProviders({ "https://sendgrid.mock": sendgridAccepts("sg-1"), "https://twilio.mock": twilioAccepts("SM" + "b".repeat(32)) });
  try {
    await runDelivery(queue.drain().map((m) => m.body));
  } finally {
    net.spy.mockRestore();
  }
});

/** Everything a forged webhook could try to change. */
async function effects() {
  const read = async (id: string) => {
    const d = (await probe("GET", `/api/communications/${id}`, { key })).json;
    return { status: d.status, deliveredAt: d.deliveredAt, failedAt: d.failedAt, bouncedAt: d.bouncedAt, events: d.events.length };
  };
  return {
    email: await read(comm.email),
    sms: await read(comm.sms),
    suppressions: (await probe("GET", "/api/suppressions", { key })).json.results,
    stats: (await probe("GET", "/api/communications/stats", { key })).json.byStatus,
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** SendGrid-shaped events about our communications, with hostile values where SendGrid puts text. */
const sgEvent = fc.record(
  {
    event: fc.oneof(fc.constantFrom("processed", "delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe", "deferred"), nastyString),
    timestamp: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000_000_000 }), fc.double({ min: 0, max: 1e10, noNaN: true })),
    email: fc.oneof(fc.constant("ann@acme.test"), nastyString),
    sg_event_id: nastyString,
    sg_message_id: fc.oneof(fc.constant("sg-1.filter0001"), nastyString),
    herald_communication_id: fc.oneof(fc.constant("EMAIL"), fc.constant("SMS"), nastyString),
    reason: nastyString,
    type: fc.oneof(fc.constant("blocked"), nastyString),
    url: nastyString,
  },
  { requiredKeys: ["event", "timestamp"] },
);
const fill = (body: string) => body.replaceAll('"EMAIL"', JSON.stringify(comm.email)).replaceAll('"SMS"', JSON.stringify(comm.sms));
const sgBody = fc.oneof(
  fc.array(sgEvent, { maxLength: 6 }).map((events) => fill(JSON.stringify(events))),
  nastyJson.map((v) => JSON.stringify(v) ?? "null"),
  nastyString,
);

/** Names Object.prototype answers to: left out of the status and error code (covered by the regression tests below). */
const notInherited = (s: string) => !(s in Object.prototype);
const twilioForm = fc
  .record(
    {
      MessageSid: fc.oneof(fc.constant("SM" + "b".repeat(32)), nastyString),
      MessageStatus: fc.oneof(fc.constantFrom("queued", "sent", "delivered", "undelivered", "failed", "read", "canceled"), nastyString.filter(notInherited)),
      ErrorCode: fc.oneof(fc.constantFrom("0", "21610", "30005", "30006"), nastyString.filter(notInherited)),
      From: fc.oneof(fc.constant(PHONE), fc.constant(`whatsapp:${PHONE}`), nastyString),
      To: fc.oneof(fc.constant("+14155550100"), nastyString),
      Body: fc.oneof(fc.constantFrom("STOP", "stop", "UNSUBSCRIBE", "START", "HELP"), nastyString),
      extra: nastyString,
    },
    { requiredKeys: [] },
  )
  .map((f) => new URLSearchParams(Object.entries(f).map(([k, v]) => [k, v.toWellFormed()])));

describe("paths", () => {
  it("a provider or config that does not exist is a 404", async () => {
    const segment = fc.oneof(nastyString, fc.uuid(), fc.constantFrom("sendgrid", "twilio", "sandbox", "SENDGRID", "..", "%2e%2e")).map((s) => encodeURIComponent(s.toWellFormed()) || "x");
    await fc.assert(
      fc.asyncProperty(segment, segment, fc.boolean(), nastyString, async (provider, config, inbound, body) => {
        const a = await probe("POST", `/webhooks/${provider}/${config}${inbound ? "/inbound" : ""}`, { raw: body.toWellFormed() });
        expect(a.status, a.text).toBe(404);
      }),
      runs(80, 0xb00),
    );
  }, 60_000);

  it("a real config under another provider's name, or without a webhook, is a 404", async () => {
    const sandbox = await created("POST", "/api/providers", key, { channel: "email", provider: "sandbox", priority: 99 });
    const swapped = [sendgridUrl.replace("/sendgrid/", "/twilio/"), twilioUrl.replace("/twilio/", "/sendgrid/"), sandbox.webhookUrl];
    for (const url of swapped) expect((await probe("POST", url, { raw: "[]" })).status, url).toBe(404);
    // SendGrid's inbound route (Inbound Parse) needs the config's URL secret; this config has none.
    expect((await probe("POST", `${sendgridUrl}/inbound`, { raw: "[]" })).status).toBe(403);
  });

  it("a body over 5 MB is a 413", async () => {
    const a = await probe("POST", sendgridUrl, { raw: "[" + " ".repeat(5 * 1024 * 1024) + "]", headers: { "content-type": "application/json" } });
    expect(a.json).toMatchObject({ status: 413, code: "payload_too_large" });
  });
});

describe("SendGrid", () => {
  const headerValue = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 100 }),
    fc.base64String({ maxLength: 120 }),
    fc.integer({ min: -1e6, max: 1e6 }).map((d) => String(now() + d)),
    fc.constantFrom("", "NaN", "1e400", "-0", String(now())),
  );

  it("unsigned, forged or stale requests are a 401 or 403 and change nothing", async () => {
    const before = await effects();
    const stranger = await sendgridSigner();
    const attempt = fc.oneof(
      // Random headers.
      fc.record({ body: sgBody, sig: fc.option(headerValue), ts: fc.option(headerValue), type: contentType }).map((a) => async () => ({
        body: a.body,
        headers: {
          ...(a.type ? { "content-type": a.type } : {}),
          ...(a.sig === null ? {} : { [SG_SIGNATURE]: a.sig }),
          ...(a.ts === null ? {} : { [SG_TIMESTAMP]: a.ts }),
        },
      })),
      // A real signature by someone else's key.
      sgBody.map((body) => async () => ({ body, headers: await stranger.headers(body) })),
      // Our key, over another body.
      fc.tuple(sgBody, sgBody).filter(([a, b]) => a !== b).map(([body, other]) => async () => ({ body, headers: await signer.headers(other) })),
      // Our key, outside the replay window.
      fc.tuple(sgBody, fc.constantFrom(-1, 1), fc.integer({ min: 15 * 60 + 5, max: 10 ** 9 })).map(([body, sign, age]) => async () => ({
        body,
        headers: await signer.headers(body, now() + sign * age),
      })),
    );
    await fc.assert(
      fc.asyncProperty(attempt, async (make) => {
        const { body, headers } = await make();
        const a = await probe("POST", sendgridUrl, { raw: body.toWellFormed(), headers });
        expect([401, 403], a.text).toContain(a.status);
      }),
      runs(150, 0x5e1),
    );
    expect(await effects()).toEqual(before);
  }, 60_000);

  it("a correctly signed body of any shape is a 200 or a 400, and the same signed request again a 409", async () => {
    // The timestamp and body are the replay key: one applied request may not be applied twice.
    const applied = new Set<string>();
    await fc.assert(
      fc.asyncProperty(sgBody, async (raw) => {
        const body = raw.toWellFormed();
        const headers = await signer.headers(body);
        const a = await probe("POST", sendgridUrl, { raw: body, headers });
        const key = `${headers[SG_TIMESTAMP]}.${body}`;
        expect(applied.has(key) ? [409] : [200, 400], a.text).toContain(a.status);
        if (a.status === 200) applied.add(key);
      }),
      runs(120, 0x5e2),
    );
  }, 60_000);

  // Regression test for a fixed bug (SendGrid timestamps): an event's `timestamp` is only z.number(); 1e13 seconds or more is
  // past what a Date holds, occurredAt.getTime() is NaN, D1 binds it as NULL into
  // communication_event.created_at (NOT NULL) → D1_ERROR → 500. SendGrid retries a 5xx for 24 h, so
  // one such event blocks its whole batch. Applies to huge negative values too.
  it("a signed event with a timestamp beyond a Date's range is answered without a 500", async () => {
    const body = JSON.stringify([{ event: "delivered", timestamp: 1e13, sg_message_id: "sg-1.x", herald_communication_id: comm.email, sg_event_id: "far-future" }]);
    await probe("POST", sendgridUrl, { raw: body, headers: await signer.headers(body) });
  });
});

describe("Twilio", () => {
  const callbackUrl = () => `${twilioUrl}?c=${comm.sms}`;
  const signature = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }),
    fc.base64String({ minLength: 28, maxLength: 28 }),
  );

  it("unsigned or forged status callbacks and inbound messages are a 401 or 403 and change nothing", async () => {
    const before = await effects();
    const attempt = fc.oneof(
      fc.tuple(twilioForm, fc.option(signature)).map(([form, sig]) => async () => ({ form, headers: (sig === null ? {} : { "x-twilio-signature": sig }) as Record<string, string> })),
      // A real signature with the wrong auth token, or for another URL, or another form.
      twilioForm.map((form) => async () => ({ form, headers: await twilioHeaders("not-the-auth-token", callbackUrl(), form) })),
      twilioForm.map((form) => async () => ({ form, headers: await twilioHeaders(authToken, `${twilioUrl}?c=someone-else`, form) })),
      fc.tuple(twilioForm, twilioForm).filter(([a, b]) => a.toString() !== b.toString()).map(([form, other]) => async () => ({ form, headers: await twilioHeaders(authToken, callbackUrl(), other) })),
    );
    await fc.assert(
      fc.asyncProperty(attempt, fc.boolean(), async (make, inbound) => {
        const { form, headers } = await make();
        const url = inbound ? `${twilioUrl}/inbound` : callbackUrl();
        const a = await probe("POST", url, { raw: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
        expect([401, 403], a.text).toContain(a.status);
      }),
      runs(150, 0x7a1),
    );
    const stop = new URLSearchParams({ From: PHONE, To: "+14155550100", Body: "STOP" });
    expect((await probe("POST", `${twilioUrl}/inbound`, { raw: stop.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(401);
    expect(await effects()).toEqual(before);
  }, 60_000);

  it("correctly signed callbacks and inbound messages of any shape are a 200 or a 400", async () => {
    await fc.assert(
      fc.asyncProperty(twilioForm, fc.boolean(), fc.oneof(fc.constant(""), nastyString.map((s) => `&x=${encodeURIComponent(s.toWellFormed())}`)), async (form, inbound, query) => {
        const url = inbound ? `${twilioUrl}/inbound` : `${callbackUrl()}${query}`;
        const a = await probe("POST", url, { raw: form.toString(), headers: await twilioHeaders(authToken, url, form) });
        expect([200, 400], a.text).toContain(a.status);
      }),
      runs(120, 0x7a2),
    );
  }, 60_000);

  // Regression test for a fixed bug (Twilio status names looked up on plain objects): `STATUS[form.MessageStatus]` and
  // `SUPPRESSING_CODES[code]` (src/channels/sms/twilio-webhook.ts) find Object.prototype members for
  // names such as "toString" or "constructor"; the function is bound into a D1 statement →
  // D1_TYPE_ERROR → 500.
  it("a signed callback with MessageStatus=toString is answered without a 500", async () => {
    const url = callbackUrl();
    const form = new URLSearchParams({ MessageSid: "SM" + "b".repeat(32), MessageStatus: "toString" });
    await probe("POST", url, { raw: form.toString(), headers: await twilioHeaders(authToken, url, form) });
  });

  it("a signed callback with ErrorCode=constructor is answered without a 500", async () => {
    const url = callbackUrl();
    const form = new URLSearchParams({ MessageSid: "SM" + "b".repeat(32), MessageStatus: "failed", ErrorCode: "constructor" });
    await probe("POST", url, { raw: form.toString(), headers: await twilioHeaders(authToken, url, form) });
  });

  it("a raw body that is not a form still gets a 2xx or 4xx when signed", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nastyString, nastyJson.map((v) => JSON.stringify(v) ?? ""), nastyNumber.map(String)), async (raw) => {
        const body = raw.toWellFormed();
        const url = callbackUrl();
        await probe("POST", url, { raw: body, headers: { ...(await twilioHeaders(authToken, url, new URLSearchParams(body))), "content-type": "text/plain" } });
      }),
      runs(60, 0x7a3),
    );
  }, 60_000);
});

itLeakedNoSecret();
