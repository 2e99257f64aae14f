/**
 * The <herald-inbox> package's pure parts, in Node: its strings per locale with overrides, the
 * relative times, the tab keys and the link guard. (The element itself runs in Chromium:
 * test/browser/herald-inbox.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { fill, LOCALES, stringsFor } from "../../packages/inbox/src/strings";
import { nextTab } from "../../packages/inbox/src/keyboard";
import { relativeTime, webUrl } from "../../packages/inbox/src/item-view";

describe("<herald-inbox> strings", () => {
  it("picks the locale, then its language, then English, and applies overrides", () => {
    expect(stringsFor("fr").markAllRead).toBe("Tout marquer comme lu");
    expect(stringsFor("de-AT").archive).toBe("Archivieren");
    expect(stringsFor("pt-BR").archive).toBe("Archive");
    expect(stringsFor("en", { title: "Alerts" })).toMatchObject({ title: "Alerts", all: "All" });
    expect(fill(stringsFor("fr").bellUnread, { count: 3 })).toBe("Notifications, 3 non lues");
    expect(fill("{label} ✓ {missing}", { label: "Approve" })).toBe("Approve ✓ {missing}");
  });

  it("translates every string in every built-in locale", () => {
    const keys = Object.keys(LOCALES.en!).sort();
    for (const [locale, strings] of Object.entries(LOCALES)) {
      expect(Object.keys(strings).sort(), locale).toEqual(keys);
      for (const value of Object.values(strings)) expect(value.trim(), locale).not.toBe("");
    }
  });
});

describe("<herald-inbox> helpers", () => {
  it("says how long ago, in the locale", () => {
    const now = new Date("2026-12-03T12:00:00Z");
    expect(relativeTime("2026-12-03T11:55:00Z", now, "en")).toBe("5 minutes ago");
    expect(relativeTime("2026-12-02T12:00:00Z", now, "en")).toBe("yesterday");
    expect(relativeTime("2026-12-03T11:59:50Z", now, "fr")).toBe("maintenant");
  });

  it("moves between tabs with arrows, Home and End, wrapping around", () => {
    const tabs = ["all", "unread", "billing", "archived"];
    expect(nextTab(tabs, "all", "ArrowRight")).toBe("unread");
    expect(nextTab(tabs, "all", "ArrowLeft")).toBe("archived");
    expect(nextTab(tabs, "billing", "Home")).toBe("all");
    expect(nextTab(tabs, "unread", "End")).toBe("archived");
    expect(nextTab(tabs, "unread", "Enter")).toBeUndefined();
  });

  it("links only to http(s) URLs", () => {
    expect(webUrl("https://app.acme.test/x")).toBe("https://app.acme.test/x");
    expect(webUrl("javascript:alert(1)")).toBeNull();
    expect(webUrl(" data:text/html,x")).toBeNull();
    expect(webUrl(null)).toBeNull();
  });
});
