/**
 * One-click unsubscribe (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` to the signed
 * URL in the message's header; a person following the link gets a page that asks first, because
 * mail scanners fetch links and a GET must never unsubscribe anyone.
 */
import { Hono } from "hono";
import type { AppEnv } from "../context";
import { getCommunication } from "../../db/communications";
import { notFound } from "../../lib/errors";
import { unsubscribeFromMarketing } from "../../pipeline/opt-out";
import { verifyToken } from "../../pipeline/tracking-links";

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>` +
  `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2933}button{font-size:1rem;padding:.6rem 1.2rem}</style></head>` +
  `<body><h1>${title}</h1>${body}</body></html>`;

async function communicationFor(c: { var: AppEnv["Variables"] }, raw: string) {
  const token = await verifyToken(c.var.config.encryptionKey, raw);
  const comm = token?.k === "u" ? await getCommunication(c.var.db, token.t, token.c) : undefined;
  if (!comm) throw notFound("unsubscribe link");
  return comm;
}

export const unsubscribe = new Hono<AppEnv>()
  .get("/:token", async (c) => {
    await communicationFor(c, c.req.param("token"));
    return c.html(
      page(
        "Unsubscribe?",
        `<p>Stop receiving marketing ${"email"} from this sender? Messages you need, such as receipts, still arrive.</p>` +
          `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  })
  .post("/:token", async (c) => {
    const comm = await communicationFor(c, c.req.param("token"));
    await unsubscribeFromMarketing(
      c.var.db,
      comm,
      { source: "list_unsubscribe", ip: c.req.header("cf-connecting-ip") ?? null, userAgent: c.req.header("user-agent") ?? null },
      new Date(),
    );
    return c.html(page("You are unsubscribed", "<p>You will no longer receive marketing messages on this channel.</p>"));
  });
