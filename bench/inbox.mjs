/**
 * The in-app inbox under connections (issue 8): how long a send takes to reach a connected socket,
 * and how many sockets the stack holds open meanwhile. On the running stack it mints recipient
 * tokens and opens one WebSocket per recipient, up to `sockets` or until its share of the time
 * budget runs out, plus one measured recipient. It then sends `messages` in_app messages to the
 * measured recipient at a steady `rate` (one POST /api/communications/send each, not waiting for
 * the previous) and times each from just before its POST to its item arriving on the measured
 * socket. Each communication's `created_at`/`delivered_at` split that time into the queue's part
 * and the inbox object's push. Last, every socket is pinged: a socket counts as held only if it
 * is still open and the runtime answers its `ping` with `pong` (the auto-response, which does not
 * wake a hibernated inbox object). With `cpu` (bench/cpu.mjs) it also reports workerd's CPU per
 * socket opened and per send, which vary far less with the machine's other load than the rates.
 *
 * `npx node bench/inbox.mjs [--sockets 2000 --messages 100 --rate 10]` runs this phase alone on its own stack
 * (the project's Node 24: the WebSocket client is Node's global one).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createSandboxTenant } from "./api.mjs";
import { settle } from "./cpu.mjs";
import { fmt, spread, table } from "./format.mjs";
import { isMain, runAlone } from "./alone.mjs";

/** Sockets are opened (token minted, upgrade answered, `hello` received) this many at a time. */
const OPENING_CONCURRENCY = 16;
/** A message not on the socket this long after its send counts as lost. */
const ARRIVAL_TIMEOUT_MS = 15_000;
const PONG_TIMEOUT_MS = 10_000;
/**
 * workerd hibernates an object whose only sockets are hibernatable about 10 s after its last
 * event. Right after a thousand objects were opened that is a wave of evictions (about 10 s of
 * closing their storage, which stalls the thread for far longer than its CPU shows), so the sends
 * wait it out: in steady state objects go idle one by one, not all at once.
 */
const HIBERNATION_MS = 11_000;
/** What the phase needs after opening: the hibernation wait, a settle, the sends' tail, the pings. */
const AFTER_SENDS_MS = HIBERNATION_MS + 5_000 + 5_000 + 3_000;

async function post(url, bearer, path, body) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** A connected device; resolves once the server's `hello` arrived. */
function connect(url, token, onMessage = () => {}) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/inbox/ws?token=${encodeURIComponent(token)}&cursor=0`);
  const socket = { ws, closed: false, pong: false };
  return new Promise((resolve, reject) => {
    ws.addEventListener("message", (e) => {
      if (e.data === "pong") return void (socket.pong = true);
      const m = JSON.parse(e.data);
      if (m.type === "hello") resolve(socket);
      onMessage(m);
    });
    ws.addEventListener("close", () => {
      socket.closed = true;
      reject(new Error("socket closed before hello"));
    });
    ws.addEventListener("error", () => reject(new Error("socket error before hello")));
  });
}

/**
 * `stack` from bench/stack.mjs. Opening stops after `openMs`, or earlier so that the phase can
 * end by `deadline` (epoch ms). Returns the figures for printInbox and inboxFailures.
 */
export async function measureInbox(stack, { sockets = 2000, messages = 100, rate = 10, openMs = 40_000, deadline = Infinity, cpu }) {
  const { url } = stack;
  const tenant = await createSandboxTenant(url, stack.adminToken, "bench inbox");
  const mint = async (recipientId) => (await post(url, tenant.apiKey, "/api/inbox/tokens", { recipientType: "user", recipientId })).token;

  process.stdout.write(`inbox: opening up to ${fmt(sockets)} sockets… `);
  const idle = [];
  const openErrors = [];
  const openStart = performance.now();
  const openCpu = cpu?.();
  const openUntil = Math.min(Date.now() + openMs, deadline - (messages / rate) * 1000 - AFTER_SENDS_MS);
  let next = 0;
  await Promise.all(
    Array.from({ length: OPENING_CONCURRENCY }, async () => {
      while (next < sockets && Date.now() < openUntil && openErrors.length < 10) {
        const n = next++;
        try {
          idle.push(await connect(url, await mint(`idle-${n}`)));
        } catch (error) {
          openErrors.push(`recipient idle-${n}: ${error.message}`);
        }
      }
    }),
  );
  const openSeconds = (performance.now() - openStart) / 1000;
  const openCpuMs = cpu ? cpu() - openCpu : NaN;
  console.log(`${fmt(idle.length)} open after ${fmt(openSeconds, 1)} s`);

  await sleep(HIBERNATION_MS);
  await settle(cpu);
  const idleCpu = cpu?.();
  await sleep(1000);
  const idleCpuMs = cpu ? cpu() - idleCpu : NaN;

  // The measured recipient: every item pushed to it, by title.
  const arrivals = new Map();
  let duplicates = 0;
  const measured = await connect(url, await mint("measured"), (m) => {
    if (m.type !== "items") return;
    for (const item of m.items) {
      if (arrivals.has(item.title)) duplicates++;
      else arrivals.set(item.title, { at: performance.now(), wall: Date.now() });
    }
  });

  process.stdout.write(`inbox: ${fmt(messages)} sends at ${fmt(rate)}/s to the measured recipient… `);
  const sends = [];
  const sendStart = performance.now();
  const sendCpu = cpu?.();
  for (let i = 0; i < messages; i++) {
    await sleep(Math.max(0, sendStart + (i * 1000) / rate - performance.now()));
    const title = `bench ${i}`;
    const send = { title, at: performance.now() };
    sends.push(send);
    send.request = post(url, tenant.apiKey, "/api/communications/send", { channel: "in_app", recipientType: "user", recipientId: "measured", subject: title, content: "Your report is ready." }).then(
      (r) => ((send.id = r.id), (send.acceptedMs = performance.now() - send.at)),
      (error) => (send.error = error.message),
    );
  }
  await Promise.all(sends.map((s) => s.request));
  const waitUntil = performance.now() + ARRIVAL_TIMEOUT_MS;
  while (arrivals.size < sends.length && performance.now() < waitUntil) await sleep(50);
  await settle(cpu); // the status events the deliveries set off belong to the sends' cost
  const sendCpuMs = cpu ? cpu() - sendCpu : NaN;
  console.log(`${fmt(arrivals.size)} arrived`);

  const rows = await stack.db.prepare("SELECT id, created_at AS c, delivered_at AS d FROM communication WHERE tenant_id = ?").bind(tenant.tenantId).all();
  const stored = new Map(rows.results.map((r) => [r.id, r]));
  const timed = sends.filter((s) => arrivals.has(s.title));
  const latency = spread(timed.map((s) => arrivals.get(s.title).at - s.at));
  const accept = spread(sends.filter((s) => s.acceptedMs !== undefined).map((s) => s.acceptedMs));
  const withRow = timed.filter((s) => stored.get(s.id)?.d);
  const queue = spread(withRow.map((s) => stored.get(s.id).d - stored.get(s.id).c));
  const push = spread(withRow.map((s) => arrivals.get(s.title).wall - stored.get(s.id).d));

  // Still held: open, and answered by the runtime.
  const all = [...idle, measured];
  for (const s of all) if (!s.closed) s.ws.send("ping");
  const pongUntil = performance.now() + PONG_TIMEOUT_MS;
  while (all.some((s) => !s.closed && !s.pong) && performance.now() < pongUntil) await sleep(50);
  const held = all.filter((s) => !s.closed && s.pong).length;
  for (const s of all) s.ws.close(1000, "bench done");

  return {
    requested: sockets,
    opened: idle.length,
    openSeconds,
    openErrors,
    openCpuMs,
    idleCpuMs,
    sendCpuMs,
    held,
    heldOf: all.length,
    messages,
    rate,
    failedSends: sends.filter((s) => s.error).map((s) => `${s.title}: ${s.error}`),
    arrived: arrivals.size,
    duplicates,
    latency,
    accept,
    queue,
    push,
  };
}

export function printInbox(r) {
  console.log(
    `\nIn-app inbox: ${fmt(r.held)} of ${fmt(r.heldOf)} sockets held (${fmt(r.opened)} idle recipients opened in ${fmt(r.openSeconds, 1)} s, ` +
      `${fmt(r.opened / r.openSeconds)}/s, plus the measured one); ${fmt(r.messages)} sends at ${fmt(r.rate)}/s to the measured recipient`,
  );
  console.log(
    `workerd CPU: ${fmt(r.openCpuMs / r.opened, 2)} ms per socket opened (minting its token, the upgrade, a new inbox object, hello);` +
      ` ${fmt(r.idleCpuMs)} ms over 1 s with all of them idle; ${fmt(r.sendCpuMs / r.messages, 2)} ms per in_app send (accept, deliver, push, status events)`,
  );
  const row = (label, s) => [label, fmt(s.p50), fmt(s.p99), fmt(s.max)];
  console.log(
    table(
      ["send → on the socket, per message", "p50 ms", "p99 ms", "max ms"],
      [
        row("total: before the POST → item on the socket", r.latency),
        row("the POST's answer (accepted)", r.accept),
        row("queue: created → delivered (stored in the inbox)", r.queue),
        row("push: delivered_at → on the socket", r.push),
      ],
    ),
  );
  console.log(
    `arrived ${fmt(r.arrived)} of ${fmt(r.messages)}, ${fmt(r.duplicates)} duplicates. The rows are separate distributions (their p99s do not add up).\n` +
      "queue: the communication's D1 timestamps; the local queue holds a partial batch for up to max_batch_timeout (1 s).\n" +
      "push: delivered_at is taken after the inbox object stored and pushed the item, by a workerd clock that moves only\n" +
      "on I/O, so it reads around zero or below: the push itself is not what takes the time.",
  );
}

export function inboxFailures(r) {
  const failures = [];
  if (r.openErrors.length) failures.push(`inbox: ${r.openErrors.length} sockets failed to open, first: ${r.openErrors[0]}`);
  if (r.failedSends.length) failures.push(`inbox: ${r.failedSends.length} sends failed, first: ${r.failedSends[0]}`);
  if (r.arrived < r.messages) failures.push(`inbox: only ${r.arrived} of ${r.messages} sends arrived on the socket within ${ARRIVAL_TIMEOUT_MS / 1000} s`);
  if (r.duplicates) failures.push(`inbox: ${r.duplicates} items arrived twice`);
  if (r.held < r.heldOf) failures.push(`inbox: only ${r.held} of ${r.heldOf} sockets were still open and answered a ping`);
  return failures;
}

if (isMain(import.meta.url)) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({ options: { sockets: { type: "string", default: "2000" }, messages: { type: "string", default: "100" }, rate: { type: "string", default: "10" } } });
  await runAlone((stack, cpu) => measureInbox(stack, { sockets: Number(values.sockets), messages: Number(values.messages), rate: Number(values.rate), cpu }), printInbox, inboxFailures);
}
