/**
 * The component's link to a recipient's inbox: one WebSocket (Herald's inbox protocol, see
 * docs/inbox.md), a `ping` every 25 s, capped and jittered back-off after a dropped network,
 * resume from the last cursor. Close code 4401 means the token is bad or expired: then it asks
 * the host's token provider for a new one and reconnects at once, or goes `signed-out` and stops
 * (retrying with a dead token would never succeed).
 */
import type { InboxCounts, InboxItem, InboxStatus, TokenProvider } from "./types";

const UNAUTHORIZED = 4401;
const ERASED = 4001;
const HEARTBEAT_MS = 25_000;

export type ConnectionOptions = {
  baseUrl: string;
  token?: string | null;
  tokenProvider?: TokenProvider | null;
  onItems(items: InboxItem[], counts: InboxCounts, live: boolean): void;
  onCounts(counts: InboxCounts): void;
  onStatus(status: InboxStatus): void;
  /** The inbox was erased: forget every item. */
  onReset(): void;
};

type ClientMessage =
  | { type: "mark"; ids: string[]; action: "seen" | "read" | "unread" | "archive" | "unarchive" | "click" }
  | { type: "markAllRead" }
  | { type: "snooze"; ids: string[]; until: string | null }
  | { type: "act"; id: string; action: number };

export class InboxConnection {
  private socket: WebSocket | undefined;
  private cursor = 0;
  private attempt = 0;
  private closed = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  /** Whether the catch-up after `hello` is done: items after it are live arrivals. */
  private caughtUp = false;
  private token: string | null;
  /** Token refreshes since the last socket that opened. */
  private refreshes = 0;

  constructor(private readonly options: ConnectionOptions) {
    this.token = options.token ?? null;
  }

  start() {
    this.closed = false;
    void this.open(this.token === null);
  }

  stop() {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.socket?.close(1000, "bye");
    this.socket = undefined;
  }

  send(message: ClientMessage): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private async open(refresh: boolean) {
    if (this.closed) return;
    if (refresh && !(await this.refreshToken())) {
      this.socket = undefined;
      return this.options.onStatus("signed-out");
    }
    if (this.closed || !this.token) return;
    this.options.onStatus(this.attempt ? "reconnecting" : "connecting");
    const url = `${this.options.baseUrl.replace(/^http/, "ws").replace(/\/$/, "")}/api/inbox/ws?token=${encodeURIComponent(this.token)}&cursor=${this.cursor}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    let opened = false;
    socket.onmessage = (event) => {
      if (event.data === "pong") return;
      const m = JSON.parse(event.data as string);
      if (!opened && m.type === "hello") {
        opened = true;
        this.attempt = 0;
        this.caughtUp = false;
        this.refreshes = 0;
        this.options.onStatus("open");
        this.heartbeat = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), HEARTBEAT_MS);
        this.options.onCounts(m.counts);
      }
      if (m.type === "items") {
        this.cursor = Math.max(this.cursor, m.cursor);
        this.options.onItems(m.items, m.counts, this.caughtUp);
      }
      // The catch-up is over: what comes after is live.
      if (m.type === "synced") this.caughtUp = true;
    };
    socket.onclose = (event) => {
      clearInterval(this.heartbeat);
      if (this.socket !== socket || this.closed) return;
      // A provider that keeps handing out tokens the server refuses would spin: twice is enough.
      if (event.code === UNAUTHORIZED) return void this.open(++this.refreshes <= 2);
      if (event.code === ERASED) {
        this.cursor = 0;
        this.options.onReset();
      }
      this.options.onStatus("reconnecting");
      const delay = Math.min(30_000, 1000 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.retry = setTimeout(() => void this.open(false), delay);
    };
  }

  /** A new token from the host, or false (no provider, it failed, or it gave nothing new). */
  private async refreshToken(): Promise<boolean> {
    const provider = this.options.tokenProvider;
    if (!provider) return false;
    try {
      const next = await provider();
      if (!next || next === this.token) return false;
      this.token = next;
      return true;
    } catch {
      return false;
    }
  }
}
