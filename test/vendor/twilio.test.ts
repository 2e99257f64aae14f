/**
 * Cross-checks the Twilio adapter against Twilio's own artefacts, in Node:
 * - the request `twilio.create(...).send(...)` makes equals the one the `twilio` SDK's
 *   `client.messages.create(...)` makes for the same message (both captured at the global
 *   `fetch`, see ./capture.ts), for SMS, WhatsApp, Messenger, MMS and Messaging Services;
 * - our form fields validate against the "Send a message" request schema of Twilio's OpenAPI
 *   document, extracted into test/fixtures/specs/twilio_messages_create.json (provenance and
 *   regeneration in test/fixtures/specs/README.md).
 */
import Ajv from "ajv";
import addFormats from "ajv-formats";
import twilioSdk from "twilio";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { twilio, twilioRequest } from "../../src/channels/sms/twilio";
import type { OutboundMessage } from "../../src/channels/types";
import messagesCreate from "../fixtures/specs/twilio_messages_create.json";
import { captureFetch } from "./capture";

const ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
const AUTH_TOKEN = "0123456789abcdef0123456789abcdef";
const API_KEY_SID = "SKfedcba9876543210fedcba9876543210";
const API_KEY_SECRET = "s3cr3t-api-key-secret";
const SERVICE_SID = "MG00112233445566778899aabbccddeeff";

// `defineProvider` erases the schemas' types; these are the types the adapter works with.
type Credentials = Parameters<typeof twilioRequest>[1];
type Settings = Parameters<typeof twilioRequest>[2];
const parseSettings = (input: unknown) => twilio.settings.parse(input) as Settings;

const authTokenCredentials = twilio.credentials.parse({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }) as Credentials;
const apiKeyCredentials = twilio.credentials.parse({
  accountSid: ACCOUNT_SID,
  authToken: AUTH_TOKEN,
  apiKeySid: API_KEY_SID,
  apiKeySecret: API_KEY_SECRET,
}) as Credentials;

const base: OutboundMessage = {
  communicationId: "com_01JD2Q8S4V7X9Z1B3C5E7G9J2K",
  tenantId: "ten_01JD2Q7N5P2R4T6V8X0Z2B4D6F",
  channel: "sms",
  to: "+15558675310",
  recipientName: null,
  subject: null,
  content: "Your code is 123456 & it expires in 10 min. Reply STOP to opt out.",
  attachments: [],
  statusCallbackUrl: "https://herald.test/webhooks/twilio/status?m=com_01JD2Q8S4V7X9Z1B3C5E7G9J2K",
};

type Case = {
  name: string;
  credentials: Credentials;
  settings: Settings;
  message: OutboundMessage;
  /** The `client.messages.create(...)` call a developer would write for the same message. */
  sdk: Parameters<twilioSdk.Twilio["messages"]["create"]>[0];
};

const cases: Case[] = [
  {
    name: "SMS from a number, account SID + auth token",
    credentials: authTokenCredentials,
    settings: parseSettings({ from: "+14155552345" }),
    message: base,
    sdk: { to: "+15558675310", from: "+14155552345", body: base.content, statusCallback: base.statusCallbackUrl },
  },
  {
    name: "SMS with an API key",
    credentials: apiKeyCredentials,
    settings: parseSettings({ from: "+14155552345" }),
    message: base,
    sdk: { to: "+15558675310", from: "+14155552345", body: base.content, statusCallback: base.statusCallbackUrl },
  },
  {
    name: "SMS through a Messaging Service (no From)",
    credentials: apiKeyCredentials,
    settings: parseSettings({ messagingServiceSid: SERVICE_SID }),
    message: base,
    sdk: { to: "+15558675310", messagingServiceSid: SERVICE_SID, body: base.content, statusCallback: base.statusCallbackUrl },
  },
  {
    name: "MMS with repeated MediaUrl",
    credentials: apiKeyCredentials,
    settings: parseSettings({ from: "+14155552345" }),
    message: {
      ...base,
      content: "Your boarding pass and seat map",
      attachments: [
        { filename: "pass.png", fileUrl: "https://cdn.herald.test/m/pass.png?sig=a%2Bb&v=1", mimeType: "image/png" },
        { filename: "seats.jpg", fileUrl: "https://cdn.herald.test/m/seats.jpg", mimeType: "image/jpeg" },
        // Twilio fetches media by URL; inline content has no form field and is not sent.
        { filename: "notes.txt", content: btoa("inline only") },
      ],
    },
    sdk: {
      to: "+15558675310",
      from: "+14155552345",
      body: "Your boarding pass and seat map",
      statusCallback: base.statusCallbackUrl,
      mediaUrl: ["https://cdn.herald.test/m/pass.png?sig=a%2Bb&v=1", "https://cdn.herald.test/m/seats.jpg"],
    },
  },
  {
    name: "WhatsApp (whatsapp: prefix added to both addresses)",
    credentials: apiKeyCredentials,
    settings: parseSettings({ from: "+14155238886" }),
    message: { ...base, channel: "whatsapp", content: "Your order #1234 has shipped 📦" },
    sdk: {
      to: "whatsapp:+15558675310",
      from: "whatsapp:+14155238886",
      body: "Your order #1234 has shipped 📦",
      statusCallback: base.statusCallbackUrl,
    },
  },
  {
    name: "WhatsApp with already-prefixed addresses and media, via a Messaging Service",
    credentials: authTokenCredentials,
    settings: parseSettings({ messagingServiceSid: SERVICE_SID }),
    message: {
      ...base,
      channel: "whatsapp",
      to: "whatsapp:+447700900123",
      content: "Your receipt",
      attachments: [{ filename: "receipt.pdf", fileUrl: "https://cdn.herald.test/r/receipt.pdf", mimeType: "application/pdf" }],
    },
    sdk: {
      to: "whatsapp:+447700900123",
      messagingServiceSid: SERVICE_SID,
      body: "Your receipt",
      statusCallback: base.statusCallbackUrl,
      mediaUrl: ["https://cdn.herald.test/r/receipt.pdf"],
    },
  },
  {
    name: "Messenger (messenger: prefix, page ID → PSID)",
    credentials: apiKeyCredentials,
    settings: parseSettings({ from: "104367462453105" }),
    message: { ...base, channel: "messenger", to: "6523189004423351", content: "Thanks for reaching out — we'll reply soon." },
    sdk: {
      to: "messenger:6523189004423351",
      from: "messenger:104367462453105",
      body: "Thanks for reaching out — we'll reply soon.",
      statusCallback: base.statusCallbackUrl,
    },
  },
];

/** The SDK on its own RequestClient, with axios switched to its fetch adapter (see capture.ts). */
function sdkClient(credentials: Credentials) {
  const httpClient = new twilioSdk.RequestClient();
  httpClient.axios.defaults.adapter = "fetch";
  return credentials.apiKeySid
    ? twilioSdk(credentials.apiKeySid, credentials.apiKeySecret, { accountSid: credentials.accountSid, httpClient })
    : twilioSdk(credentials.accountSid, credentials.authToken, { httpClient });
}

const created = () =>
  Response.json({ sid: "SM0123456789abcdef0123456789abcdef", status: "queued", account_sid: ACCOUNT_SID }, { status: 201 });

/** Form fields as name → values in sent order; names sorted, since Twilio reads fields by name. */
const formFields = (body: string) => {
  const params = new URLSearchParams(body);
  return Object.fromEntries([...new Set(params.keys())].sort().map((name) => [name, params.getAll(name)]));
};

let capture: ReturnType<typeof captureFetch>;
beforeEach(() => {
  capture = captureFetch(created);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Twilio adapter vs the twilio SDK", () => {
  it.each(cases)("sends the same request as messages.create: $name", async ({ credentials, settings, message, sdk }) => {
    const outcome = await twilio.create(credentials, settings).send(message);
    expect(outcome).toEqual({ ok: true, providerMessageId: "SM0123456789abcdef0123456789abcdef", httpStatus: 201 });
    const ours = capture.take();

    const instance = await sdkClient(credentials).messages.create(sdk);
    expect(instance.sid).toBe("SM0123456789abcdef0123456789abcdef");
    const theirs = capture.take();

    expect(ours.method).toBe("POST");
    expect(theirs.method).toBe("POST");
    expect(ours.url.href).toBe(`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`);
    expect(theirs.url.href).toBe(ours.url.href);
    // Same credentials and media type. The SDK also sends `Accept`, `Accept-Charset: utf-8`,
    // `User-Agent` and `Connection: keep-alive`; none changes how Twilio reads the form.
    for (const name of ["authorization", "content-type"]) expect(theirs.headers.get(name)).toBe(ours.headers.get(name));
    const user = credentials.apiKeySid ? `${API_KEY_SID}:${API_KEY_SECRET}` : `${ACCOUNT_SID}:${AUTH_TOKEN}`;
    expect(ours.headers.get("authorization")).toBe(`Basic ${btoa(user)}`);
    expect(ours.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    // Compared decoded, not byte for byte: in application/x-www-form-urlencoded a space may be
    // `+` (URLSearchParams) or `%20` (the SDK's qs), and field order carries no meaning; the
    // order of repeated values (MediaUrl) is kept.
    expect(formFields(ours.body)).toEqual(formFields(theirs.body));
  });
});

// ---- The spec: "Send a message" request schema ----

const pascal = (snake: string) => snake.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
const properties = messagesCreate.schema.properties as Record<string, { type?: string }>;

/**
 * The extracted schema plus Twilio's `x-twilio.conditional` groups (snake_case names: at least
 * one field of each group is required), which JSON Schema does not see on its own.
 */
function messagesCreateSchema() {
  const allOf = messagesCreate.conditional.map((group) => ({
    anyOf: group.map((name) => {
      if (!(pascal(name) in properties)) throw new Error(`conditional field ${name} is not in the schema`);
      return { required: [pascal(name)] };
    }),
  }));
  return { ...messagesCreate.schema, allOf };
}

/** The decoded form as the schema sees it: array-typed fields from repeated names. */
const formObject = (body: string) => {
  const params = new URLSearchParams(body);
  return Object.fromEntries(
    [...new Set(params.keys())].map((name) => [name, properties[name]?.type === "array" ? params.getAll(name) : params.get(name)]),
  );
};

describe("Twilio request vs the Messages create OpenAPI schema", () => {
  // Every form value is a string on the wire; coercion lets integer/boolean fields validate.
  // strictRequired is off because the conditional `required`s name properties of the parent.
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, coerceTypes: true });
  addFormats(ajv);
  ajv.addKeyword({ keyword: "x-twilio" });
  // The spec names but does not define `phone-number`. Ours, from Twilio's address docs: E.164,
  // optionally behind the `whatsapp:` prefix; a Messenger ID (`messenger:<digits>`); or a short
  // code / alphanumeric sender ID (up to 11 letters, digits and spaces).
  ajv.addFormat("phone-number", /^(?:(?:whatsapp:)?\+[1-9]\d{1,14}|messenger:\d{1,20}|(?=.*[A-Za-z0-9])[A-Za-z0-9 ]{1,11})$/);
  const validate = ajv.compile(messagesCreateSchema());
  const validateAccountSid = ajv.compile(messagesCreate.pathParameters.AccountSid);
  const errorsOf = (form: Record<string, unknown>) =>
    validate(form) ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message}`);

  it.each(cases)("validates the request we send: $name", async ({ credentials, settings, message }) => {
    await twilio.create(credentials, settings).send(message);
    const sent = capture.take();
    expect(sent.method).toBe(messagesCreate.method);
    expect(sent.url.origin).toBe(messagesCreate.servers[0]!.url);
    expect(sent.headers.get("content-type")).toBe(messagesCreate.contentType);
    const [, accountSid] = sent.url.pathname.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/) ?? [];
    expect(messagesCreate.path.replace("{AccountSid}", accountSid!)).toBe(sent.url.pathname);
    expect(validateAccountSid(accountSid)).toBe(true);
    expect(errorsOf(formObject(sent.body))).toEqual([]);
  });

  it("bites: missing To, no sender, no content, bad SIDs, bad URLs", () => {
    const { init } = twilioRequest(base, authTokenCredentials, parseSettings({ from: "+14155552345" }));
    const form = formObject(init.body);
    const { To: _to, ...withoutTo } = form;
    expect(errorsOf(withoutTo)).toContain(" must have required property 'To'");
    const { From: _from, ...withoutSender } = form;
    expect(errorsOf(withoutSender)).toContain(" must have required property 'MessagingServiceSid'");
    const { Body: _body, ...withoutContent } = form;
    expect(errorsOf(withoutContent)).toContain(" must have required property 'MediaUrl'");
    expect(errorsOf({ ...withoutContent, MediaUrl: ["https://cdn.herald.test/a.png"] })).toEqual([]);
    expect(errorsOf({ ...form, To: "call me maybe" })).toContain('/To must match format "phone-number"');
    expect(errorsOf({ ...withoutSender, MessagingServiceSid: "MG123" })).toContain(
      "/MessagingServiceSid must NOT have fewer than 34 characters",
    );
    expect(errorsOf({ ...form, StatusCallback: "/relative/path" })).toContain('/StatusCallback must match format "uri"');
    expect(errorsOf({ ...form, ValidityPeriod: "ten hours" })).toContain("/ValidityPeriod must be integer");
    expect(validateAccountSid("SK0123456789abcdef0123456789abcdef")).toBe(false);
  });
});
