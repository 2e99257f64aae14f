import { describe, expect, it } from "vitest";
import { checkSyntax, missingVariables, render, requiredVariables, usedVariables } from "./render";
import { localeChain } from "./locale";

const en = { locale: "en-US", currency: "USD" };

describe("render", () => {
  it("renders the seed's SMS invoice template with its helpers", () => {
    const t = "Hi {{customerName}}, your invoice {{invoiceNumber}} for {{currency amount}} is ready. View & pay: {{shortLink}}";
    expect(render(t, { customerName: "John", invoiceNumber: "INV-1", amount: 1500, shortLink: "https://p.test/x?a=1&b=2" }, "text", en)).toBe(
      "Hi John, your invoice INV-1 for $1,500.00 is ready. View & pay: https://p.test/x?a=1&b=2",
    );
  });

  it("formats currencies and dates in the recipient's locale", () => {
    const t = '{{currency amount "EUR"}} due {{date dueDate "long"}}';
    expect(render(t, { amount: 1234.5, dueDate: "2025-10-20" }, "text", { locale: "fr-FR", currency: "USD" })).toBe(
      "1\u202f234,50\u00a0€ due 20 octobre 2025",
    );
    expect(render("{{date dueDate}}", { dueDate: "2025-10-20T10:00:00Z" }, "text", en)).toBe("Oct 20, 2025");
    expect(render("{{currency amount}}", { amount: 10 }, "text", { locale: "de-DE", currency: "EUR" })).toBe("10,00\u00a0€");
  });

  it("leaves unformattable values as they are", () => {
    expect(render("{{currency amount}} / {{date when}}", { amount: "n/a", when: "someday" }, "text", en)).toBe("n/a / someday");
  });

  it("escapes variables in HTML but not in text", () => {
    const vars = { name: "<script>alert(1)</script> & Co", amount: 5 };
    expect(render("<p>{{name}} {{currency amount}}</p>", vars, "html", en)).toBe(
      "<p>&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; Co $5.00</p>",
    );
    expect(render("{{name}}", vars, "text", en)).toBe("<script>alert(1)</script> & Co");
  });

  it("applies helpers inside loops against each item", () => {
    const t = "{{#items}}{{name}}: {{currency price}}\n{{/items}}";
    expect(render(t, { items: [{ name: "Tea", price: 2 }, { name: "Cake", price: 3.5 }] }, "text", en)).toBe("Tea: $2.00\nCake: $3.50\n");
  });

  it("never evaluates variables as templates (no injection)", () => {
    expect(render("Hi {{name}}", { name: "{{secret}}" }, "text", en)).toBe("Hi {{secret}}");
  });
});

describe("variables", () => {
  const t = "Dear {{customerName}}, {{currency amount}}. {{#dueDate}}Due {{date dueDate}}{{/dueDate}} {{customer.email}}";

  it("requires top-level names and helper arguments, not what sections guard", () => {
    expect(requiredVariables(t).sort()).toEqual(["amount", "customer.email", "customerName"]);
  });

  it("reports missing and blank variables", () => {
    expect(missingVariables(t, { customerName: " ", amount: 0, customer: { email: "a@b.c" } })).toEqual(["customerName"]);
    expect(missingVariables(t, { customerName: "J", amount: 1, customer: {} })).toEqual(["customer.email"]);
  });

  it("lists every top-level name used", () => {
    expect(usedVariables(t).sort()).toEqual(["amount", "customer", "customerName", "dueDate"]);
  });
});

describe("checkSyntax", () => {
  it("locates an unclosed section by line and column", () => {
    const problem = checkSyntax("Hello\n{{#items}}\n{{name}}");
    expect(problem).toMatchObject({ line: 2, message: expect.stringMatching(/Unclosed section "items"/) });
  });

  it("locates an unclosed tag", () => {
    expect(checkSyntax("line one\nline {{two")).toMatchObject({ line: 2, column: 6 });
  });

  it("accepts valid templates, helpers included", () => {
    expect(checkSyntax('{{currency amount "EUR"}} {{#a}}{{b}}{{/a}}')).toBeUndefined();
  });
});

describe("localeChain", () => {
  it("falls back from region to language to the default", () => {
    expect(localeChain("fr-CA")).toEqual(["fr-CA", "fr", "en"]);
    expect(localeChain(undefined)).toEqual(["en"]);
    expect(localeChain("en-GB")).toEqual(["en-GB", "en"]);
  });
});
