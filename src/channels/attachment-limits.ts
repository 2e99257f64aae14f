/**
 * What each provider accepts in attachments (see /work/shared/reference/providers.md): email APIs
 * cap the whole message, which travels base64-encoded, so their totals are compared with the
 * encoded size (4/3 of the bytes); MMS, WhatsApp and Telegram cap each media file by type. A provider kind
 * missing here has no limit Herald knows of. Checked at accept against the sizes known then, and
 * at delivery once every file's size is known.
 */
import type { ProviderKind } from "./kinds";

const MB = 1024 * 1024;
const KB = 1024;

/** One file as far as limits go: its index on the communication, name, type and decoded size. */
export type SizedFile = { index: number; filename: string; mimeType?: string; size?: number };

type Limits = {
  /** Largest encoded total of all files together (email). */
  totalEncoded?: number;
  /** Largest single file, by its MIME type. */
  perFile?: (mimeType: string) => number;
};

const LIMITS: Partial<Record<ProviderKind, Limits>> = {
  sendgrid: { totalEncoded: 30 * MB },
  mailgun: { totalEncoded: 25 * MB },
  ses: { totalEncoded: 40 * MB },
  postmark: { totalEncoded: 10 * MB },
  resend: { totalEncoded: 40 * MB },
  // MMS (US/CA): JPEG, PNG and GIF up to 5 MB, anything else up to 500 KB.
  twilio: { perFile: (t) => (/^image\/(jpe?g|png|gif)$/.test(t) ? 5 * MB : 500 * KB) },
  meta_whatsapp: { perFile: (t) => (t.startsWith("image/") ? 5 * MB : t.startsWith("video/") || t.startsWith("audio/") ? 16 * MB : 100 * MB) },
  // Messenger's Send API takes attachments up to 25 MB.
  meta_messenger: { perFile: () => 25 * MB },
  // Bot API uploads: photos up to 10 MB, other files up to 50 MB. By URL Telegram takes less (5 MB
  // photos, 20 MB others), but a URL's size is Telegram's to find: see chat/telegram-media.ts.
  telegram: { perFile: (t) => (t.startsWith("image/") ? 10 * MB : 50 * MB) },
};

export const encodedSize = (bytes: number) => Math.ceil(bytes / 3) * 4;
export const megabytes = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

/**
 * Why `kind` cannot take these files, naming the file at fault (`index`, or none for a total), or
 * undefined when they fit. Files of unknown size pass: the provider fetches them itself.
 */
export function attachmentProblem(kind: ProviderKind, files: SizedFile[]): { index?: number; reason: string } | undefined {
  const limits = LIMITS[kind];
  if (!limits || files.length === 0) return undefined;
  if (limits.perFile) {
    for (const f of files) {
      const max = limits.perFile(f.mimeType ?? "application/octet-stream");
      if (f.size !== undefined && f.size > max) {
        return { index: f.index, reason: `${f.filename} is ${megabytes(f.size)}; ${kind} takes at most ${megabytes(max)} for ${f.mimeType ?? "this type"}` };
      }
    }
  }
  if (limits.totalEncoded) {
    const total = files.reduce((n, f) => n + encodedSize(f.size ?? 0), 0);
    if (total > limits.totalEncoded) {
      const largest = files.reduce((a, b) => ((b.size ?? 0) > (a.size ?? 0) ? b : a));
      return {
        index: files.length === 1 ? largest.index : undefined,
        reason: `attachments are ${megabytes(total)} encoded; ${kind} takes at most ${megabytes(limits.totalEncoded)} per message (largest: ${largest.filename})`,
      };
    }
  }
  return undefined;
}
