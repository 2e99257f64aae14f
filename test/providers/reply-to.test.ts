/**
 * Every email adapter puts the message's signed reply-to address (a tenant with a reply domain:
 * src/pipeline/deliver.ts) where its API takes a Reply-To, in place of the config's own `replyTo`.
 */
import { describe, expect, it } from "vitest";
import { sendgridRequestBody } from "../../src/channels/email/sendgrid";
import { mailgunForm } from "../../src/channels/email/mailgun";
import { postmarkRequestBody } from "../../src/channels/email/postmark";
import { resendRequestBody } from "../../src/channels/email/resend";
import { sesRequestBody } from "../../src/channels/email/ses";
import { outbound } from "./support";

const SIGNED = "reply+0193aaaabbbbccccddddeeeeffff0000.AbCdEfGh_-123456@replies.acme.test";
const own = { from: "billing@acme.test", replyTo: "help@acme.test", timeoutMs: 1000 };
type Any = Parameters<typeof sendgridRequestBody>[1] & Parameters<typeof mailgunForm>[1] & Parameters<typeof postmarkRequestBody>[1] & Parameters<typeof resendRequestBody>[1] & Parameters<typeof sesRequestBody>[1];
const settings = { ...own, domain: "mg.acme.test", region: "us", messageStream: "outbound" } as unknown as Any;

const replyTos = (replyTo?: string) => {
  const m = outbound(replyTo ? { replyTo } : {});
  return [
    sendgridRequestBody(m, settings).reply_to?.email,
    mailgunForm(m, settings).get("h:Reply-To"),
    postmarkRequestBody(m, settings).ReplyTo,
    resendRequestBody(m, settings).reply_to,
    sesRequestBody(m, settings).ReplyToAddresses?.[0],
  ];
};

describe("Reply-To on outbound email", () => {
  it("is the signed address when the message carries one", () => {
    expect(replyTos(SIGNED)).toEqual(Array(5).fill(SIGNED));
  });
  it("is the config's own replyTo otherwise", () => {
    expect(replyTos()).toEqual(Array(5).fill("help@acme.test"));
  });
});
