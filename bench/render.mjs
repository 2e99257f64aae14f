/**
 * Template rendering speed (issue 3's aim: 50,000+ renders/s of a realistic invoice email on this
 * machine). esbuild bundles the real template code (src/templates) for Node, and the seed's invoice
 * email — HTML with currency and date helpers and a section — is rendered in a tight loop, with the
 * compiled-template cache warm, as it is in a running Worker.
 */
import { build } from "esbuild";
import { resolve } from "node:path";

const ENTRY = `
import { renderContent } from "./src/templates/content";
import { formatOptions } from "./src/templates/format";
import { SYSTEM_TEMPLATES } from "./src/templates/system";
export { renderContent, formatOptions, SYSTEM_TEMPLATES };
`;

export async function measureRenders(root, { seconds = 2 } = {}) {
  const out = await build({
    stdin: { contents: ENTRY, resolveDir: root, loader: "ts" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    logLevel: "silent",
  });
  const url = `data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`;
  const { renderContent, formatOptions, SYSTEM_TEMPLATES } = await import(url);
  const invoice = SYSTEM_TEMPLATES.find((t) => t.code === "invoice_email");
  const vars = (i) => ({
    customerName: `Customer ${i}`,
    invoiceNumber: `INV-${1000 + i}`,
    amount: 1500 + i / 100,
    businessName: "ACME Corp",
    dueDate: "2026-12-15",
    invoiceUrl: `https://acme.test/invoices/${i}`,
  });
  const format = formatOptions("en-US", vars(0));
  const once = (i) => renderContent("email", invoice, vars(i), format, true);
  if (!once(0).ok) throw new Error("the invoice template did not render");
  for (let i = 0; i < 2000; i++) once(i); // warm: JIT and the compiled-template cache
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) for (let k = 0; k < 100; k++) once(n++);
  const elapsed = (performance.now() - started) / 1000;
  return { renders: n, seconds: elapsed, perSecond: n / elapsed, template: "invoice_email (HTML, currency + date helpers, a section)" };
}

// Run alone: `node bench/render.mjs`
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await measureRenders(resolve(new URL("..", import.meta.url).pathname));
  console.log(`${Math.round(r.perSecond).toLocaleString("en-US")} renders/s (${r.renders} in ${r.seconds.toFixed(2)} s) — ${r.template}`);
}
