import { describe, expect, it } from "vitest";
import { excerpt } from "./excerpt";

describe("excerpt", () => {
  it("keeps short plain text as it is", () => {
    expect(excerpt("invalid recipient")).toBe("invalid recipient");
  });

  it("drops markup, scripts and comments", () => {
    expect(excerpt('<html><head><style>p{}</style><script>alert(1)</script></head><body><h1>502 Bad Gateway</h1><!-- nginx --></body></html>')).toBe("502 Bad Gateway");
    expect(excerpt("a <img src=x onerror=alert(1)> b")).toBe("a b");
    expect(excerpt("unclosed <script>steal()")).toBe("unclosed");
    expect(excerpt('<?xml version="1.0"?><!DOCTYPE html><p>gone</p>')).toBe("gone");
    expect(excerpt("invalid from: Acme <billing@acme.test>")).toBe("invalid from: Acme billing@acme.test");
  });

  it("drops control and bidi characters and collapses whitespace", () => {
    expect(excerpt("line\r\nbreak\u0000\u001b[31mred\u202eevil\u200b")).toBe("line break [31mred evil");
  });

  it("caps the length", () => {
    const out = excerpt("x".repeat(10_000));
    expect(out.length).toBe(200);
    expect(out.endsWith("…")).toBe(true);
  });
});
