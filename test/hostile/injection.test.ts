/**
 * Injection into what Herald interprets: template sources and variables cannot run code, reach
 * internals or break the renderer, and keys named like Object.prototype members are only data.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  created,
  expectWellFormed,
  hit,
  hostileTenant,
  itLeakedNoSecret,
  nastyJson,
  nastyNumber,
  nastyString,
  probe,
  runs,
  show,
} from "./fuzz";

let key = "";
let seq = 0;
const unique = (prefix: string) => `${prefix}${++seq}`;

beforeAll(async () => {
  ({ key } = await hostileTenant());
});

const template = async (body: Record<string, unknown>) =>
  (await created("POST", "/api/communication-templates", key, { name: "T", code: unique("t"), type: "t", ...body })).id as string;
const preview = (id: string, variables: unknown) => probe("POST", `/api/communication-templates/${id}/preview`, { key, json: { variables } });

describe("template injection", () => {
  let text = "";
  let triple = "";
  let helper = "";
  let html = "";
  beforeAll(async () => {
    text = await template({ channel: "sms", bodyTemplate: "{{x}}" });
    triple = await template({ channel: "sms", bodyTemplate: "{{{x}}}" });
    helper = await template({ channel: "sms", bodyTemplate: "{{uppercase x}}" });
    html = await template({ channel: "email", subjectTemplate: "s", bodyTemplate: "<p>{{x}}</p>" });
  });

  const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#x2F;": "/", "&#x60;": "`", "&#x3D;": "=" };
  const unescapeHtml = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#x2F|#x60|#x3D);/g, (m) => ENTITIES[m]!);

  it("renders a variable's value as data, never as template, markup or code", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(nastyString, nastyNumber), async (x) => {
        const value = String(x);
        expect(show((await preview(text, { x })).json.body)).toBe(show(value));
        expect(show((await preview(triple, { x })).json.body)).toBe(show(value));
        expect(show((await preview(helper, { x })).json.body)).toBe(show(value.toLocaleUpperCase("en")));
        const inner = (await preview(html, { x })).json.html.slice("<p>".length, -"</p>".length) as string;
        expect(/[<>"'`=]/.test(inner), show(inner)).toBe(false);
        expect(show(unescapeHtml(inner))).toBe(show(value));
      }),
      runs(50, 0x7e3),
    );
  }, 60_000);

  // Names that resolve to Object.prototype functions, and sections over long arrays (whose cost
  // multiplies), have regression tests of their own below.
  const NAMES = ["x", "name", "a.b", "items", ".", "__proto__", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "constructor", "prototype", "__lookupGetter__", "x.length", "items.0"];
  const tag = fc.constantFrom(...NAMES);
  const token = fc.oneof(
    fc.constantFrom("Hi ", "\n", "{{", "}}", "{{{", "}}}", "{{/x}}", "{{! note }}", "{{> partial}}", "{{=<% %>=}}", "<%x%>", "<%={{ }}=%>", "{{#}}", "{{&}}"),
    tag.map((n) => `{{${n}}}`),
    tag.map((n) => `{{{${n}}}}`),
    tag.map((n) => `{{& ${n}}}`),
    tag.map((n) => `{{#${n}}}`),
    tag.map((n) => `{{^${n}}}`),
    tag.map((n) => `{{/${n}}}`),
    fc.tuple(fc.constantFrom("currency", "date", "datetime", "number", "uppercase", "lowercase"), tag, fc.option(nastyString)).map(([h, n, arg]) =>
      arg === null ? `{{${h} ${n}}}` : `{{${h} ${n} "${arg}"}}`,
    ),
    fc.tuple(tag, nastyString).map(([n, body]) => `{{#${n}}}${body}{{/${n}}}`),
    nastyString,
  );
  const source = fc.array(token, { minLength: 1, maxLength: 10 }).map((t) => t.join(""));
  const small = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null), fc.array(fc.oneof(nastyString, nastyNumber), { maxLength: 3 }));
  const variables = fc.record(
    { x: small, name: small, a: fc.record({ b: small }), items: fc.array(fc.record({ x: small }), { maxLength: 3 }), currency: fc.string({ maxLength: 4 }), timeZone: nastyString },
    { requiredKeys: [] },
  );

  it("any template source is stored or refused with its line and column; previews and sends never fail", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("sms", "email"), source, variables, async (channel, src, vars) => {
        const made = await probe("POST", "/api/communication-templates", {
          key,
          json: { name: "F", code: unique("f"), type: "t", channel, subjectTemplate: channel === "email" ? src.slice(0, 500) : undefined, bodyTemplate: src },
        });
        if (made.status !== 201) {
          expect(made.status, made.text).toBe(422);
          for (const e of made.json.errors ?? [])
            if (e.field.endsWith("Template")) expect(e.message).toMatch(/^line \d+, column \d+: |unpaired surrogate/);
          return;
        }
        await preview(made.json.id, vars);
        const sent = await probe("POST", "/api/communications/send", {
          key,
          json: { channel, recipientContact: channel === "sms" ? "+14155550123" : "ann@acme.test", subject: "s", templateId: made.json.id, templateVariables: vars },
        });
        expect([201, 422]).toContain(sent.status);
      }),
      runs(80, 0x7e4),
    );
  }, 60_000);

  it("partials, delimiter changes and comments render as plain mustache, with no file or code access", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "[{{> ../../etc/passwd}}][{{! hidden }}]{{=<% %>=}}[<%x%>]" });
    expect((await preview(id, { x: "1" })).json.body).toBe("[][][1]");
  });

  it("variables named like internals are only data", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "{{__proto__}}|{{constructor}}|{{toString}}|{{x}}" });
    const a = await probe("POST", `/api/communication-templates/${id}/preview`, {
      key,
      raw: '{"variables":{"constructor":"c","toString":"t"}}',
      headers: { "content-type": "application/json" },
    });
    // No prototype reaches the template: names it does not get are simply empty.
    expect(a.json.body).toBe("|c|t|");
    const proto = await probe("POST", `/api/communication-templates/${id}/preview`, {
      key,
      raw: '{"variables":{"__proto__":{"x":"polluted"}}}',
      headers: { "content-type": "application/json" },
    });
    expect(proto.status).toBe(422);
    expect(proto.json.errors[0].field).toBe("variables.__proto__");
  });

  it("a syntax error is refused with where it is", async () => {
    const a = await probe("POST", "/api/communication-templates", { key, json: { name: "B", code: unique("b"), channel: "sms", type: "t", bodyTemplate: "Hi\n  {{#items}}x" } });
    expect(a.status).toBe(422);
    expect(a.json.errors).toEqual([{ field: "bodyTemplate", message: expect.stringMatching(/^line 2, column 3: Unclosed section "items"/) }]);
  });

  // Regression test for a fixed bug (prototype functions in templates): mustache resolves a name through the prototype chain
  // and calls any function it finds with the view as `this` and no arguments, so
  // `{{__defineGetter__}}`, `{{__defineSetter__}}` or `{{constructor.keys}}` throw a TypeError →
  // 500 on preview and on every send that uses the template (src/templates/render.ts).
  it("a template naming Object.prototype functions previews without a 500", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "{{__defineGetter__}}" });
    await preview(id, {});
  });

  it("a template naming constructor.keys previews without a 500", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "{{constructor.keys}}" });
    await preview(id, {});
  });

  it("a send through a template naming Object.prototype functions is answered without a 500", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "Hi {{__defineSetter__}}" });
    await probe("POST", "/api/communications/send", { key, json: { channel: "sms", recipientContact: "+14155550123", templateId: id } });
  });

  // Regression test for a fixed bug (helper internals rendered): the helper lambdas live in the view as `__h_<helper>`, so
  // `{{__h_currency}}` renders the lambda's JavaScript source into the message.
  it("the renderer's helper lambdas cannot be named in a template", async () => {
    const made = await probe("POST", "/api/communication-templates", { key, json: { name: "H", code: unique("h"), channel: "sms", type: "t", bodyTemplate: "{{__h_currency}}" } });
    expect(made.status).toBe(422);
    expect(made.json.errors).toEqual([{ field: "bodyTemplate", message: expect.stringMatching(/^line 1, column 1: names starting with __h_ are reserved/) }]);
  });

  // Regression test for a fixed bug (render amplification): nested sections over one array multiply; rendering has no budget,
  // so a 300-byte preview renders n³ copies (n = 200: 160 MB, ~19 s of CPU in one request — on
  // Workers that is the CPU limit, not a 4xx). Sends render before the size check, so they burn the
  // same CPU before refusing.
  it("a preview whose output would pass the largest message size is refused with 422", async () => {
    const id = await template({ channel: "sms", bodyTemplate: "{{#a}}{{#a}}{{#a}}xxxxxxxxxx{{/a}}{{/a}}{{/a}}" });
    const a = await hit("POST", `/api/communication-templates/${id}/preview`, { key, json: { variables: { a: Array(60).fill(1) } } });
    expectWellFormed(a);
    expect(a.status, `rendered ${a.text.length} characters`).toBe(422);
  });
});

describe("keys that are Object.prototype members", () => {
  // Regression test for a fixed bug (prototype keys as message types): `constructor` is a valid slug, and
  // `pref.preferences?.[type]` (src/preferences/policy.ts) finds Object's constructor for it, then
  // calls `.includes`/`.filter` on a function → TypeError → 500 for any recipient with preferences.
  it("a send of type `constructor` to a recipient with preferences is answered without a 500", async () => {
    await probe("PATCH", "/api/communication-preferences/customer/proto-1", { key, json: { preferredEmail: "p@acme.test", preferences: { invoice: ["email"] } } });
    await probe("POST", "/api/communications/send", { key, json: { channel: "email", recipientId: "proto-1", subject: "s", content: "c", type: "constructor" } });
  });

  it("a routed send of type `constructor` is answered without a 500", async () => {
    await probe("PATCH", "/api/communication-preferences/customer/proto-2", { key, json: { preferredEmail: "p@acme.test", preferences: { invoice: ["email"] } } });
    await probe("POST", "/api/communications/send", { key, json: { channel: "auto", recipientId: "proto-2", subject: "s", content: "c", type: "constructor" } });
  });

  it("prototype-looking keys in free-form objects pollute nothing", async () => {
    const refused = await probe("POST", "/api/communications/send", {
      key,
      raw: '{"channel":"sms","recipientContact":"+14155550123","content":"x","metadata":{"__proto__":{"admin":true}}}',
      headers: { "content-type": "application/json" },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.errors[0].field).toBe("metadata.__proto__");
    const raw = '{"channel":"sms","recipientContact":"+14155550123","content":"x","metadata":{"constructor":{"prototype":1}}}';
    const a = await probe("POST", "/api/communications/send", { key, raw, headers: { "content-type": "application/json" } });
    expect(a.status).toBe(201);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const d = await probe("GET", `/api/communications/${a.json.id}`, { key });
    expect(d.json.metadata.constructor).toEqual({ prototype: 1 });
  });

  // Regression test for a fixed bug (minor, `__proto__` keys dropped): zod's z.record copies keys by assignment, so a
  // `"__proto__"` key in metadata or templateVariables becomes the copy's prototype instead of a
  // key: the 201 and everything stored silently lack it (a variable named so still renders, through
  // the prototype chain).
  it("a `__proto__` key in metadata is kept as data or refused, not silently dropped", async () => {
    const raw = '{"channel":"sms","recipientContact":"+14155550123","content":"x","metadata":{"__proto__":{"admin":true}}}';
    const a = await probe("POST", "/api/communications/send", { key, raw, headers: { "content-type": "application/json" } });
    if (a.status === 422) return;
    const d = await probe("GET", `/api/communications/${a.json.id}`, { key });
    expect(JSON.stringify(d.json.metadata)).toBe('{"__proto__":{"admin":true}}');
  });

  it("prototype-looking keys anywhere in a body never cause a 500", async () => {
    const evil = fc.constantFrom("__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty");
    const body = fc.tuple(evil, nastyJson, fc.constantFrom("metadata", "templateVariables")).map(
      ([k, v, field]) => `{"channel":"sms","recipientContact":"+14155550123","content":"x","${field}":{${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}}}`,
    );
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        await probe("POST", "/api/communications/send", { key, raw, headers: { "content-type": "application/json" } });
      }),
      runs(40, 0x9a0),
    );
  }, 60_000);
});

itLeakedNoSecret();
