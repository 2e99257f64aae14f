/**
 * Cross-checks the SendGrid adapter against SendGrid's own artefacts, in Node:
 * - the request `sendgrid.create(...).send(...)` makes equals the one `@sendgrid/mail` makes for
 *   the same message (both captured at the global `fetch`, see ./capture.ts);
 * - the JSON body we send validates against the Mail Send request schema of SendGrid's OpenAPI
 *   document (test/fixtures/specs/tsg_mail_v3.json, twilio/sendgrid-oai), with ajv's 2020-12
 *   dialect as the spec is OpenAPI 3.1.
 */
import sgClient from "@sendgrid/client"; // the client @sendgrid/mail is built on (its own dependency)
import sgMail from "@sendgrid/mail";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { sendgrid, sendgridRequestBody } from "../../src/channels/email/sendgrid";
import type { OutboundMessage } from "../../src/channels/types";
import mailSpec from "../fixtures/specs/tsg_mail_v3.json";
import { captureFetch } from "./capture";

const API_KEY = "SG.test-key.0123456789abcdefghijklmnopqrstuvwxyz";
// `defineProvider` erases the schemas' types; these are the types the adapter works with.
type Settings = Parameters<typeof sendgridRequestBody>[1];
type MailData = Exclude<Parameters<typeof sgMail.send>[0], unknown[]>;
const parseSettings = (input: unknown) => sendgrid.settings.parse(input) as Settings;

const credentials = sendgrid.credentials.parse({ apiKey: API_KEY });
const plainSettings = parseSettings({ from: "notifications@herald.test" });
const namedSettings = parseSettings({
  from: "notifications@herald.test",
  fromName: "Herald Notifications",
  replyTo: "support@herald.test",
});

const base: OutboundMessage = {
  communicationId: "com_01JD2Q8S4V7X9Z1B3C5E7G9J2K",
  tenantId: "ten_01JD2Q7N5P2R4T6V8X0Z2B4D6F",
  channel: "email",
  to: "ada@example.com",
  recipientName: null,
  subject: "Your sign-in code",
  content: "Your code is 123456. It expires in 10 minutes.",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/sendgrid",
};
// Our correlation ids ride on the personalization (SendGrid echoes them on every webhook event).
const customArgs = { herald_communication_id: base.communicationId, herald_tenant_id: base.tenantId };

const pdf = btoa("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");
const csv = btoa("id,amount\n1,9.99\n");

/** Each message, and the `@sendgrid/mail` call a developer would write for it by hand. */
const cases: { name: string; settings: Settings; message: OutboundMessage; sdk: MailData }[] = [
  {
    name: "plain text",
    settings: plainSettings,
    message: base,
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test" },
      subject: "Your sign-in code",
      text: "Your code is 123456. It expires in 10 minutes.",
    },
  },
  {
    name: "HTML content (text/plain alternative + text/html)",
    settings: plainSettings,
    message: {
      ...base,
      subject: "Confirm your address",
      content: '<p>Hello <strong>Ada</strong>,</p><p><a href="https://herald.test/c?t=1&amp;u=2">Confirm</a> &amp; go.</p>',
      // As the delivery pipeline derives it from the HTML (htmlToText runs in workerd, not here).
      text: "Hello Ada,\n\nConfirm (https://herald.test/c?t=1&u=2) & go.",
    },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test" },
      subject: "Confirm your address",
      text: "Hello Ada,\n\nConfirm (https://herald.test/c?t=1&u=2) & go.",
      html: '<p>Hello <strong>Ada</strong>,</p><p><a href="https://herald.test/c?t=1&amp;u=2">Confirm</a> &amp; go.</p>',
    },
  },
  {
    // No text to offer as an alternative: the spec gives content values minLength 1, so the
    // text/plain part is left out rather than sent empty.
    name: "HTML with no text (a single image)",
    settings: plainSettings,
    message: { ...base, subject: "Your ticket", content: '<p><img src="https://cdn.herald.test/t/qr.png" alt=""></p>' },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test" },
      subject: "Your ticket",
      html: '<p><img src="https://cdn.herald.test/t/qr.png" alt=""></p>',
    },
  },
  {
    name: "recipient and sender names, reply-to",
    settings: namedSettings,
    message: { ...base, recipientName: "Ada Lovelace" },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com", name: "Ada Lovelace" }], customArgs }],
      from: { email: "notifications@herald.test", name: "Herald Notifications" },
      replyTo: { email: "support@herald.test" },
      subject: "Your sign-in code",
      text: "Your code is 123456. It expires in 10 minutes.",
    },
  },
  {
    // A tenant with a reply domain: the signed reply-to address replaces the config's own.
    name: "signed reply-to of the tenant's reply domain",
    settings: namedSettings,
    message: { ...base, replyTo: "reply+0193aaaabbbbccccddddeeeeffff0000.AbCdEfGh_-123456@replies.herald.test" },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test", name: "Herald Notifications" },
      replyTo: { email: "reply+0193aaaabbbbccccddddeeeeffff0000.AbCdEfGh_-123456@replies.herald.test" },
      subject: "Your sign-in code",
      text: "Your code is 123456. It expires in 10 minutes.",
    },
  },
  {
    name: "attachments with base64 content",
    settings: plainSettings,
    message: {
      ...base,
      subject: "Your invoice",
      content: "Invoice attached.",
      attachments: [
        { filename: "invoice.pdf", content: pdf, mimeType: "application/pdf" },
        { filename: "lines.csv", content: csv },
        // SendGrid only takes inline base64 content; a URL-only attachment is not sent by email.
        { filename: "logo.png", fileUrl: "https://cdn.herald.test/logo.png", mimeType: "image/png" },
      ],
    },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test" },
      subject: "Your invoice",
      text: "Invoice attached.",
      attachments: [
        { content: pdf, filename: "invoice.pdf", type: "application/pdf", disposition: "attachment" },
        { content: csv, filename: "lines.csv", disposition: "attachment" },
      ],
    },
  },
  {
    // No subject of our own (e.g. a provider template supplies it): the SDK leaves the field out,
    // and the spec gives `subject` minLength 1, so an empty string would be a malformed body.
    name: "no subject",
    settings: plainSettings,
    message: { ...base, subject: null },
    sdk: {
      personalizations: [{ to: [{ email: "ada@example.com" }], customArgs }],
      from: { email: "notifications@herald.test" },
      text: "Your code is 123456. It expires in 10 minutes.",
    },
  },
];

/** `@sendgrid/mail` set up as its README shows for data residency: a configured client handed in. */
function sdkMailer(region: "global" | "eu" = "global") {
  sgClient.setDataResidency(region);
  sgClient.setApiKey(API_KEY);
  // axios's fetch adapter, so capture.ts sees the request. `adapter` is not in the SDK's typings,
  // but its client hands every default request option to axios unchanged (classes/client.js).
  sgClient.setDefaultRequest("adapter" as never, "fetch" as never);
  sgMail.setClient(sgClient);
  return sgMail;
}

const accepted = () => new Response(null, { status: 202, headers: { "x-message-id": "14c5d75ce93.dfd.64b469.filter0001" } });

let capture: ReturnType<typeof captureFetch>;
beforeEach(() => {
  capture = captureFetch(accepted);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("SendGrid adapter vs @sendgrid/mail", () => {

  it.each(cases)("sends the same request as the SDK: $name", async ({ settings, message, sdk }) => {
    const outcome = await sendgrid.create(credentials, settings).send(message);
    expect(outcome).toMatchObject({ ok: true, providerMessageId: "14c5d75ce93.dfd.64b469.filter0001", httpStatus: 202 });
    const ours = capture.take();

    const [response] = await sdkMailer().send(sdk);
    expect(response.statusCode).toBe(202);
    const theirs = capture.take();

    expect(ours.method).toBe("POST");
    expect(theirs.method).toBe("POST");
    expect(ours.url.href).toBe("https://api.sendgrid.com/v3/mail/send");
    expect(theirs.url.href).toBe(ours.url.href);
    // Same credentials and media type. The SDK also sends `Accept: application/json` and its
    // `User-Agent`; SendGrid answers JSON errors and 202 either way, so those are not compared.
    for (const name of ["authorization", "content-type"]) expect(theirs.headers.get(name)).toBe(ours.headers.get(name));
    expect(ours.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
    expect(ours.headers.get("content-type")).toBe("application/json");
    // Parsed, not byte-compared: member order and whitespace carry no meaning in JSON (RFC 8259 §4).
    expect(JSON.parse(ours.body)).toEqual(JSON.parse(theirs.body));
  });

  it("honours baseUrl (EU region) like the SDK's data residency setting", async () => {
    const eu = parseSettings({ from: "notifications@herald.test", baseUrl: "https://api.eu.sendgrid.com" });
    await sendgrid.create(credentials, eu).send(base);
    const ours = capture.take();

    await sdkMailer("eu").send(cases[0]!.sdk);
    expect(ours.url.href).toBe("https://api.eu.sendgrid.com/v3/mail/send");
    expect(capture.take().url.href).toBe(ours.url.href);
  });
});

// The spec's request schema, made standalone: its `#/components/schemas/*` references become
// `$defs`. One patch, documented in providers.md §10: top-level `custom_args` is typed `string`
// in the spec although the API takes a string→string map (as the per-personalization one is).
function mailSendSchema() {
  const { requestBodies, schemas } = mailSpec.components;
  const request = requestBodies.PostMailSend.content["application/json"].schema;
  const schema = {
    ...request,
    properties: { ...request.properties, custom_args: { type: "object", additionalProperties: { type: "string" } } },
  };
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [
        k,
        k === "$ref" && typeof v === "string" ? v.replace("#/components/schemas/", "#/$defs/") : rewrite(v),
      ]),
    );
  };
  return { ...(rewrite(schema) as object), $defs: rewrite(schemas) };
}

describe("SendGrid request body vs the Mail Send OpenAPI schema", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(mailSendSchema());
  const errorsOf = (body: unknown) => (validate(body) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`));

  it.each(cases)("validates the body we send: $name", async ({ settings, message }) => {
    await sendgrid.create(credentials, settings).send(message);
    expect(errorsOf(JSON.parse(capture.take().body))).toEqual([]);
  });

  it("bites: missing `from`, an empty subject, a bad address, non-string custom args", () => {
    const body = sendgridRequestBody(base, plainSettings);
    const { from: _from, ...withoutFrom } = body;
    expect(errorsOf(withoutFrom)).toContain(" must have required property 'from'");
    expect(errorsOf({ ...body, subject: "" })).toContain("/subject must NOT have fewer than 1 characters");
    expect(errorsOf({ ...body, from: { email: "not-an-address" } })).toContain('/from/email must match format "email"');
    expect(errorsOf({ ...body, custom_args: { attempt: 2 } })).toContain("/custom_args/attempt must be string");
    expect(errorsOf({ ...body, personalizations: [{ cc: [{ email: "b@example.com" }] }] })).toContain(
      "/personalizations/0 must have required property 'to'",
    );
  });
});
