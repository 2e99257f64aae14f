/**
 * A page trying `<herald-inbox>` with a recipient token (`/inbox/component?token=…`, add
 * `&mode=page` for the full-page feed): the component as any host app would include it.
 */
export const INBOX_COMPONENT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald inbox component</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1f2933}
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;border-bottom:1px solid #d9dee3}
main{max-width:40rem;margin:1rem auto;padding:0 1rem}
h1{font-size:1.2rem;margin:0}
</style>
<script type="module" src="./herald-inbox.js"></script>
</head>
<body>
<header><h1>Acme</h1><herald-inbox id="inbox"><p slot="signed-out">Your session ended. <a href="./component">Sign in again</a>.</p></herald-inbox></header>
<main><p>The bell is <code>&lt;herald-inbox&gt;</code>; this page passes it the token from its address.</p></main>
<script type="module">
const params = new URLSearchParams(location.search);
const inbox = document.getElementById("inbox");
if (params.get("mode") === "page") { inbox.setAttribute("mode", "page"); document.querySelector("main").prepend(inbox); }
if (params.get("token")) inbox.token = params.get("token");
</script>
</body></html>`;
