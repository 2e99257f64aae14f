/**
 * A SendGrid-shaped mock provider on 127.0.0.1 for the end-to-end bench: `POST /v3/mail/send`
 * answers as SendGrid does (202 with `X-Message-Id`), or, told to, with a 503 or not at all (a
 * hang, until the caller's timeout gives up). Each accepted request is recorded with the moment it
 * arrived (performance.now(), the same clock the bench reads) and the Herald communication id from
 * its custom args, so the bench can time accept → provider and count duplicates.
 */
import { createServer } from "node:http";

/** @param {"accept" | "fail" | "hang"} mode */
export async function startMockProvider(mode) {
  const received = []; // { id, at }
  const sockets = new Set();
  let seq = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const at = performance.now();
      if (req.method !== "POST" || req.url !== "/v3/mail/send") {
        res.writeHead(404).end();
        return;
      }
      if (mode === "hang") return; // never answers; the socket is destroyed on close()
      if (mode === "fail") {
        res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable");
        return;
      }
      let id = null;
      try {
        id = JSON.parse(body).personalizations?.[0]?.custom_args?.herald_communication_id ?? null;
      } catch {
        // recorded without an id: the bench counts those as malformed
      }
      received.push({ id, at });
      res.writeHead(202, { "x-message-id": `mock-${++seq}` }).end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
