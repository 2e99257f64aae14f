/**
 * The signed timestamps of provider webhooks (Mailgun, SendGrid, Svix, Vonage): Unix seconds,
 * read strictly. `Number()` alone also accepts "0x…", "1e9", " 17…" and "", so a value no
 * provider sends could pass the replay window check.
 */
export const unixSeconds = (value: string): number | undefined => (/^\d{1,12}$/.test(value) ? Number(value) : undefined);

/** Whether a signature made at `seconds` is still accepted at `now`, within `window` either way. */
export const withinWindow = (seconds: number, now: Date, window: number) => Math.abs(now.getTime() / 1000 - seconds) <= window;
