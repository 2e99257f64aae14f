/**
 * The sandbox provider: accepts any channel and records the message without sending it, so local
 * development and demos run with no provider account. `settings.outcome` lets a demo or a test
 * rehearse failures (a retryable outage, a permanent rejection) without a network.
 */
import { z } from "zod";
import { PROVIDER_CHANNELS } from "../../domain";
import { baseSettings } from "../settings";
import { defineProvider, type SendOutcome } from "../types";

const settings = baseSettings.extend({
  from: z.string().optional(),
  outcome: z.enum(["delivered", "sent", "fail_retryable", "fail_permanent"]).default("delivered"),
});

export const sandbox = defineProvider({
  kind: "sandbox",
  channels: PROVIDER_CHANNELS,
  credentials: z.object({}).passthrough(),
  settings,
  // `sent` stands for a provider that accepts and then never reports: a silent one.
  reportsDelivery: (s) => s.outcome === "sent",
  create: (_c, s) => ({
    async send(message): Promise<SendOutcome> {
      switch (s.outcome) {
        case "delivered":
        case "sent":
          return {
            ok: true,
            providerMessageId: `sandbox-${message.communicationId}`,
            delivered: s.outcome === "delivered",
          };
        case "fail_retryable":
          return { ok: false, failure: "retryable", reason: "sandbox: simulated outage", httpStatus: 503 };
        case "fail_permanent":
          return { ok: false, failure: "permanent", reason: "sandbox: simulated rejection", httpStatus: 400 };
      }
    },
  }),
});
