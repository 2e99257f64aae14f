import { beforeEach, describe, expect, it } from "vitest";
import { addProvider, call, captureQueue, createTenant, runDelivery } from "../helpers";

let key: string;
let queue: ReturnType<typeof captureQueue>;

beforeEach(async () => {
  queue = captureQueue();
  ({ key } = await createTenant());
  for (const channel of ["email", "sms", "whatsapp"]) await addProvider(key, { channel, provider: "sandbox" });
});

const invoiceEmail = (overrides: Record<string, unknown> = {}) => ({
  name: "Invoice Email",
  code: "invoice_email",
  description: "Standard email template for invoices",
  channel: "email",
  type: "invoice",
  subjectTemplate: "Invoice {{invoiceNumber}} from {{businessName}}",
  bodyTemplate: "Dear {{customerName}},\n\nYour invoice #{{invoiceNumber}} for {{amount}} is attached.\n\nThank you!",
  availableVariables: ["customerName", "invoiceNumber", "amount", "businessName", "dueDate"],
  ...overrides,
});

async function create(body: Record<string, unknown>) {
  const res = await call("POST", "/api/communication-templates", { key, body });
  expect(res.status, res.text).toBe(201);
  return res.json;
}
const send = (body: Record<string, unknown>) => call("POST", "/api/communications/send", { key, body });

describe("creating templates", () => {
  it("creates version 1 and answers with the template (seed §4.2)", async () => {
    const t = await create(invoiceEmail());
    expect(t).toMatchObject({ code: "invoice_email", channel: "email", locale: "en", version: 1, isActive: true, isSystem: false, warnings: [] });
  });

  it("refuses a syntax error with its line and column", async () => {
    const res = await call("POST", "/api/communication-templates", {
      key,
      body: invoiceEmail({ bodyTemplate: "Dear {{customerName}},\n{{#items}}\n- {{name}}\n" }),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([{ field: "bodyTemplate", message: expect.stringMatching(/^line 2, column 1: Unclosed section "items"/) }]);
  });

  it("warns about variables it uses but does not list", async () => {
    const t = await create(invoiceEmail({ code: "warn", bodyTemplate: "Hi {{customerName}}, {{secretField}}" }));
    expect(t.warnings).toEqual(['"secretField" is used but not listed in availableVariables']);
  });

  it("refuses a duplicate code, channel and locale with 409, but allows another locale", async () => {
    await create(invoiceEmail());
    const dup = await call("POST", "/api/communication-templates", { key, body: invoiceEmail() });
    expect(dup.status).toBe(409);
    expect((await call("POST", "/api/communication-templates", { key, body: invoiceEmail({ locale: "fr" }) })).status).toBe(201);
  });

  it("keeps HTML and text parts to email, and requires a body", async () => {
    const sms = await call("POST", "/api/communication-templates", { key, body: { name: "x", code: "x", channel: "sms", type: "t", htmlTemplate: "<p>x</p>" } });
    expect(sms.status).toBe(422);
    expect(sms.json.errors.map((e: { field: string }) => e.field)).toContain("htmlTemplate");
    const empty = await call("POST", "/api/communication-templates", { key, body: { name: "x", code: "y", channel: "sms", type: "t" } });
    expect(empty.json.errors[0].field).toBe("bodyTemplate");
  });
});

describe("system templates", () => {
  it("are listed beside the tenant's own and are read-only", async () => {
    await create(invoiceEmail({ code: "mine" }));
    const list = await call("GET", "/api/communication-templates?channel=sms", { key });
    const codes = list.json.results.map((t: { code: string }) => t.code);
    expect(codes).toEqual(expect.arrayContaining(["invoice_sms", "payment_link", "one_time_code"]));
    expect(codes).not.toContain("mine");
    const system = list.json.results.find((t: { code: string }) => t.code === "invoice_sms");
    expect(system).toMatchObject({ isSystem: true, version: 1 });

    expect((await call("PATCH", `/api/communication-templates/${system.id}`, { key, body: { name: "x" } })).status).toBe(403);
    const del = await call("DELETE", `/api/communication-templates/${system.id}`, { key });
    expect(del.status).toBe(403);
    expect(del.json.detail).toMatch(/override/);
  });

  it("render the seed's defaults as written", async () => {
    const res = await send({
      channel: "whatsapp",
      recipientContact: "+14155550123",
      templateCode: "payment_reminder",
      templateVariables: { customerName: "John", invoiceNumber: "INV-1234", amount: 1500, dueDate: "2025-10-20", paymentLink: "https://pay.test/abc" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.communication.content).toBe(
      "Hello John!\nJust a friendly reminder that invoice INV-1234 for $1,500.00 is due on Oct 20, 2025.\nPay securely here: https://pay.test/abc\nThank you! 🙏",
    );
  });

  it("are overridden by a tenant template with the same code", async () => {
    await create({ name: "Mine", code: "invoice_sms", channel: "sms", type: "invoice", bodyTemplate: "Invoice {{invoiceNumber}}, thanks!" });
    const res = await send({ channel: "sms", recipientContact: "+14155550123", templateCode: "invoice_sms", templateVariables: { invoiceNumber: "7" } });
    expect(res.json.communication.content).toBe("Invoice 7, thanks!");
  });
});

describe("versions", () => {
  it("makes each content change a new version, and rolls back by activating an old one", async () => {
    const t = await create(invoiceEmail());
    const renamed = await call("PATCH", `/api/communication-templates/${t.id}`, { key, body: { name: "Renamed" } });
    expect(renamed.json.version).toBe(1);

    const v2 = await call("PATCH", `/api/communication-templates/${t.id}`, { key, body: { subjectTemplate: "New invoice {{invoiceNumber}}" } });
    expect(v2.json).toMatchObject({ version: 2, subjectTemplate: "New invoice {{invoiceNumber}}", bodyTemplate: invoiceEmail().bodyTemplate });

    const versions = await call("GET", `/api/communication-templates/${t.id}/versions`, { key });
    expect(versions.json.results.map((v: { version: number; active: boolean }) => [v.version, v.active])).toEqual([
      [2, true],
      [1, false],
    ]);

    const vars = { customerName: "Ann", invoiceNumber: "9", amount: "$5", businessName: "ACME" };
    const sentV2 = await send({ channel: "email", recipientContact: "ann@example.com", templateId: t.id, templateVariables: vars });
    expect(sentV2.json.communication).toMatchObject({ subject: "New invoice 9", templateId: t.id, templateVersion: 2 });

    const rolledBack = await call("POST", `/api/communication-templates/${t.id}/versions/1/activate`, { key });
    expect(rolledBack.json).toMatchObject({ version: 1, subjectTemplate: invoiceEmail().subjectTemplate });
    const sentV1 = await send({ channel: "email", recipientContact: "ann@example.com", templateCode: "invoice_email", templateVariables: vars });
    expect(sentV1.json.communication).toMatchObject({ subject: "Invoice 9 from ACME", templateVersion: 1, templateVariables: vars });

    // Months later, the first communication still says which version it came from.
    const detail = await call("GET", `/api/communications/${sentV2.json.id}`, { key });
    expect(detail.json).toMatchObject({ templateVersion: 2, subject: "New invoice 9" });
    expect((await call("POST", `/api/communication-templates/${t.id}/versions/9/activate`, { key })).status).toBe(404);
  });
});

describe("preview", () => {
  it("renders the seed's example", async () => {
    const t = await create(invoiceEmail());
    const res = await call("POST", `/api/communication-templates/${t.id}/preview`, {
      key,
      body: { variables: { customerName: "John Doe", invoiceNumber: "INV-1234", amount: "$1,500.00", businessName: "ACME Corp" } },
    });
    expect(res.json).toMatchObject({
      subject: "Invoice INV-1234 from ACME Corp",
      body: "Dear John Doe,\n\nYour invoice #INV-1234 for $1,500.00 is attached.\n\nThank you!",
      warnings: [],
    });
  });

  it("warns about missing variables instead of failing", async () => {
    const t = await create(invoiceEmail());
    const res = await call("POST", `/api/communication-templates/${t.id}/preview`, { key, body: { variables: { customerName: "J" } } });
    expect(res.status).toBe(200);
    expect(res.json.warnings).toEqual(expect.arrayContaining(['missing variable "invoiceNumber" rendered empty']));
  });

  it("counts SMS segments for GSM-7 and UCS-2 text", async () => {
    const gsm = await create({ name: "g", code: "gsm", channel: "sms", type: "t", bodyTemplate: "{{text}}" });
    const long = await call("POST", `/api/communication-templates/${gsm.id}/preview`, { key, body: { variables: { text: "a".repeat(161) } } });
    expect(long.json.sms).toEqual({ encoding: "GSM-7", characters: 161, units: 161, segments: 2 });
    const unicode = await call("POST", `/api/communication-templates/${gsm.id}/preview`, { key, body: { variables: { text: "Olá, você está bem? ç".repeat(4) } } });
    expect(unicode.json.sms).toMatchObject({ encoding: "UCS-2", segments: 2 });
  });

  it("previews system templates", async () => {
    const res = await call("POST", "/api/communication-templates/system:one_time_code:sms:en/preview", {
      key,
      body: { variables: { code: "123456", productName: "Acme", expiresInMinutes: 10 } },
    });
    expect(res.json.body).toBe("123456 is your Acme verification code. It expires in 10 minutes. Never share it.");
    expect(res.json.sms).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });
});

describe("sending with templates", () => {
  it("picks the recipient's locale with fallback: fr-CA → fr → en", async () => {
    await create({ name: "w", code: "greeting", channel: "sms", type: "t", locale: "en", bodyTemplate: "Hello {{name}}" });
    await create({ name: "w", code: "greeting", channel: "sms", type: "t", locale: "fr", bodyTemplate: "Bonjour {{name}}" });
    const base = { channel: "sms", recipientContact: "+14155550123", templateCode: "greeting", templateVariables: { name: "Zoé" } };
    expect((await send({ ...base, locale: "fr-CA" })).json.communication).toMatchObject({ content: "Bonjour Zoé", locale: "fr-CA" });
    expect((await send({ ...base, locale: "de" })).json.communication.content).toBe("Hello Zoé");
    expect((await send(base)).json.communication.content).toBe("Hello Zoé");
  });

  it("formats helpers in the recipient's locale", async () => {
    await create({ name: "a", code: "amount", channel: "sms", type: "t", locale: "fr", bodyTemplate: "Total : {{currency amount}}" });
    const res = await send({ channel: "sms", recipientContact: "+33612345678", templateCode: "amount", locale: "fr", templateVariables: { amount: 12.5, currency: "EUR" } });
    expect(res.json.communication.content).toBe("Total : 12,50\u00a0€");
  });

  it("refuses a send missing variables, naming them", async () => {
    const t = await create(invoiceEmail());
    const res = await send({ channel: "email", recipientContact: "a@b.test", templateId: t.id, templateVariables: { customerName: "A" } });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([{ field: "templateVariables", message: "missing invoiceNumber, businessName, amount" }]);
    expect(queue.sent).toHaveLength(0);
  });

  it("escapes variables in HTML email and keeps a plain-text part that is not double-escaped", async () => {
    await create({
      name: "h",
      code: "html",
      channel: "email",
      type: "t",
      subjectTemplate: "Hi {{name}}",
      htmlTemplate: "<p>Hello {{name}}</p>",
      textTemplate: "Hello {{name}}",
    });
    const res = await send({ channel: "email", recipientContact: "a@b.test", templateCode: "html", templateVariables: { name: "Tom & <Jerry>" } });
    expect(res.status).toBe(201);
    const c = res.json.communication;
    expect(c.subject).toBe("Hi Tom & <Jerry>");
    expect(c.content).toBe("<p>Hello Tom &amp; &lt;Jerry&gt;</p>");
  });

  it("keeps a rendered subject on one line", async () => {
    await create({ name: "s", code: "subj", channel: "email", type: "t", subjectTemplate: "Re: {{topic}}", bodyTemplate: "x" });
    const res = await send({ channel: "email", recipientContact: "a@b.test", templateCode: "subj", templateVariables: { topic: "a\r\nBcc: evil@x.test" } });
    expect(res.json.communication.subject).toBe("Re: a Bcc: evil@x.test");
  });

  it("refuses unknown, inactive, mismatched or ambiguous templates, naming the field", async () => {
    const t = await create({ name: "i", code: "inactive", channel: "sms", type: "t", bodyTemplate: "x", isActive: false });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ channel: "sms", recipientContact: "+14155550123", templateId: "nope" }, "templateId", /no such template/],
      [{ channel: "sms", recipientContact: "+14155550123", templateCode: "nope" }, "templateCode", /no active template/],
      [{ channel: "sms", recipientContact: "+14155550123", templateId: t.id }, "templateId", /inactive/],
      [{ channel: "email", recipientContact: "a@b.test", templateId: "system:invoice_sms:sms:en" }, "templateId", /is a sms template/],
      [{ channel: "sms", recipientContact: "+14155550123", templateCode: "invoice_sms", content: "x" }, "content", /not both/],
    ];
    for (const [body, field, message] of cases) {
      const res = await send(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.json.errors[0]).toMatchObject({ field, message: expect.stringMatching(message) });
    }
  });

  it("renders templates per item in a batch, reporting the failures by index", async () => {
    const res = await call("POST", "/api/communications/batch", {
      key,
      body: {
        items: [
          { channel: "sms", recipientContact: "+14155550123", templateCode: "one_time_code", templateVariables: { code: "1", productName: "A", expiresInMinutes: 5 } },
          { channel: "sms", recipientContact: "+14155550124", templateCode: "one_time_code", templateVariables: { code: "2" } },
        ],
      },
    });
    expect(res.json).toMatchObject({ accepted: 1, rejected: 1 });
    expect(res.json.results[1].error.errors[0]).toMatchObject({ field: "items.1.templateVariables" });
  });

  it("delivers the rendered content", async () => {
    const res = await send({ channel: "sms", recipientContact: "+14155550123", templateCode: "one_time_code", templateVariables: { code: "424242", productName: "Acme", expiresInMinutes: 10 } });
    await runDelivery(queue.drain().map((m) => m.body));
    const d = await call("GET", `/api/communications/${res.json.id}`, { key });
    expect(d.json).toMatchObject({ status: "delivered", content: expect.stringContaining("424242"), templateId: "system:one_time_code:sms:en", templateVersion: 1 });
  });
});

describe("template isolation", () => {
  it("hides one tenant's templates from another", async () => {
    const t = await create(invoiceEmail());
    const other = await createTenant("Other");
    await addProvider(other.key, { channel: "email", provider: "sandbox" });
    for (const [method, path, body] of [
      ["GET", `/api/communication-templates/${t.id}`],
      ["PATCH", `/api/communication-templates/${t.id}`, { name: "x" }],
      ["DELETE", `/api/communication-templates/${t.id}`],
      ["GET", `/api/communication-templates/${t.id}/versions`],
      ["POST", `/api/communication-templates/${t.id}/versions/1/activate`],
      ["POST", `/api/communication-templates/${t.id}/preview`, {}],
    ] as const) {
      expect((await call(method, path, { key: other.key, body })).status, `${method} ${path}`).toBe(404);
    }
    const list = await call("GET", "/api/communication-templates?code=invoice_email", { key: other.key });
    expect(list.json.results.every((r: { isSystem: boolean }) => r.isSystem)).toBe(true);
    const sendTheirs = await call("POST", "/api/communications/send", { key: other.key, body: { channel: "email", recipientContact: "a@b.test", templateId: t.id } });
    expect(sendTheirs.status).toBe(422);
    expect(sendTheirs.json.errors[0].message).toBe("no such template");
  });

  it("deletes a tenant's own template", async () => {
    const t = await create(invoiceEmail({ code: "gone" }));
    expect((await call("DELETE", `/api/communication-templates/${t.id}`, { key })).status).toBe(204);
    expect((await call("GET", `/api/communication-templates/${t.id}`, { key })).status).toBe(404);
  });
});
