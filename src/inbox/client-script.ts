/**
 * The browser client for the in-app inbox, served as-is at /inbox/client.js: no dependencies, an
 * ES module. It connects with a recipient token, answers nothing itself (heartbeats are `ping`,
 * which the inbox object's auto-response answers with `pong` without waking up), reconnects with
 * capped, jittered back-off, and resumes from the last cursor so nothing is missed or repeated.
 */
export const INBOX_CLIENT_JS = `// Herald in-app inbox client. Usage:
//   import { connectInbox } from "https://<herald>/inbox/client.js";
//   const inbox = connectInbox({ baseUrl, token, onItems(items, counts) {}, onCounts(counts) {} });
//   inbox.markRead([id]); inbox.markAllRead(); inbox.archive([id]); inbox.close();
export function connectInbox({ baseUrl, token, cursor = 0, onItems = () => {}, onCounts = () => {}, onStatus = () => {} }) {
  let socket, closed = false, attempt = 0, heartbeat;
  const url = () => baseUrl.replace(/^http/, "ws") + "/api/inbox/ws?token=" + encodeURIComponent(token) + "&cursor=" + cursor;
  const send = (m) => socket && socket.readyState === 1 && socket.send(JSON.stringify(m));
  function open() {
    onStatus("connecting");
    socket = new WebSocket(url());
    socket.onopen = () => {
      attempt = 0;
      onStatus("open");
      heartbeat = setInterval(() => socket.readyState === 1 && socket.send("ping"), 25000);
    };
    socket.onmessage = (event) => {
      if (event.data === "pong") return;
      const m = JSON.parse(event.data);
      if (typeof m.cursor === "number") cursor = Math.max(cursor, m.cursor);
      if (m.type === "hello") onCounts(m.counts);
      if (m.type === "items") { onItems(m.items, m.counts); onCounts(m.counts); }
    };
    socket.onclose = (event) => {
      clearInterval(heartbeat);
      if (closed) return onStatus("closed");
      // 4401: the token is bad or expired; retrying with it cannot work. Connect again with a new one.
      if (event.code === 4401) return onStatus("unauthorized");
      onStatus("reconnecting");
      const delay = Math.min(30000, 1000 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      setTimeout(open, delay);
    };
  }
  open();
  return {
    markRead: (ids) => send({ type: "mark", ids, action: "read" }),
    markSeen: (ids) => send({ type: "mark", ids, action: "seen" }),
    click: (ids) => send({ type: "mark", ids, action: "click" }),
    archive: (ids) => send({ type: "mark", ids, action: "archive" }),
    markAllRead: () => send({ type: "markAllRead" }),
    get cursor() { return cursor; },
    close() { closed = true; socket && socket.close(1000, "bye"); },
  };
}
`;

/** A live inbox bell, for trying the inbox with a token (`/inbox/demo?token=…`). */
export const INBOX_DEMO_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald inbox demo</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1f2933}
header{display:flex;justify-content:space-between;align-items:center}
.bell{font-size:1.4rem;position:relative}.badge{position:absolute;top:-.4rem;right:-.8rem;background:#c81e1e;color:#fff;border-radius:1rem;font-size:.75rem;padding:.1rem .45rem}
ul{list-style:none;padding:0}li{border-bottom:1px solid #e4e7eb;padding:.6rem 0}li.unread{font-weight:600}
button{font-size:.9rem}#status{color:#52606d;font-size:.85rem}
</style></head>
<body>
<header><h1>Inbox</h1><span class="bell" aria-label="unread notifications">🔔<span class="badge" id="unread">0</span></span></header>
<form id="auth"><label>Recipient token <input id="token" size="40" required></label> <button>Connect</button></form>
<p id="status" role="status">not connected</p>
<button id="all" type="button">Mark all read</button>
<ul id="items" aria-live="polite"></ul>
<script type="module">
import { connectInbox } from "./client.js";
const $ = (id) => document.getElementById(id);
const items = new Map();
let inbox;
function render() {
  const list = [...items.values()].filter((i) => !i.archivedAt).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  $("items").replaceChildren(...list.map((i) => {
    const li = document.createElement("li");
    li.className = i.readAt ? "" : "unread";
    li.textContent = (i.title ? i.title + " — " : "") + i.body + " ";
    const read = document.createElement("button");
    read.textContent = i.readAt ? "read" : "mark read";
    read.disabled = !!i.readAt;
    read.onclick = () => inbox.markRead([i.id]);
    li.append(read);
    return li;
  }));
}
function start(token) {
  inbox?.close();
  inbox = connectInbox({
    baseUrl: location.origin, token,
    onItems: (changed) => { for (const i of changed) items.set(i.id, i); render(); },
    onCounts: (c) => { $("unread").textContent = c.unread; },
    onStatus: (s) => { $("status").textContent = s; },
  });
}
$("auth").onsubmit = (e) => { e.preventDefault(); start($("token").value.trim()); };
$("all").onclick = () => inbox?.markAllRead();
const fromUrl = new URLSearchParams(location.search).get("token");
if (fromUrl) { $("token").value = fromUrl; start(fromUrl); }
</script>
</body></html>`;
