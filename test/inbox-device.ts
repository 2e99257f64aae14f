/**
 * A recipient's device for the inbox tests: a WebSocket to /api/inbox/ws that collects what the
 * server pushes and waits for a matching message, and the same token's REST calls.
 */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { call } from "./helpers";

/** A connected device: collects what the server pushes. */
export async function connect(token: string, cursor = 0) {
  const res = await exports.default.fetch(`https://herald.test/api/inbox/ws?token=${token}&cursor=${cursor}`, { headers: { upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const received: any[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener("message", (e) => {
    received.push(JSON.parse(e.data as string));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason })));
  ws.accept();
  /** The first message that matches, waiting up to `tries` × 20 ms for it. */
  const next = async (match: (m: any) => boolean, tries = 50) => {
    for (let i = 0; i < tries; i++) {
      const found = received.find(match);
      if (found) {
        received.splice(received.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    throw new Error(`no matching message; got ${JSON.stringify(received)}`);
  };
  return { ws, received, next, closed, send: (m: unknown) => ws.send(JSON.stringify(m)) };
}

export const inboxApi = (token: string, method: string, path: string, body?: unknown) => call(method, `/api/inbox${path}`, { headers: { authorization: `Bearer ${token}` }, body });
