/**
 * The interactive API reference at `/docs`: one self-contained page (no CDN: it must work offline
 * and behind strict networks) whose script fetches /openapi.json and renders each operation's
 * parameters, body schema, example and responses, with a "try it" form. The token typed in stays
 * in this page's memory; it is never put in a URL or in storage.
 */
const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1f2933;background:#f7f8fa}
header{position:sticky;top:0;z-index:1;display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;padding:.75rem 1rem;background:#102a43;color:#fff}
header h1{font-size:1.1rem;margin:0 1rem 0 0}header label{font-size:.85rem}header input{font:inherit;padding:.3rem .5rem;border-radius:4px;border:0;min-width:16rem}
main{display:grid;grid-template-columns:14rem 1fr;gap:1rem;max-width:80rem;margin:0 auto;padding:1rem}
nav a{display:block;padding:.2rem 0;color:#243b53}@media (max-width:48rem){main{grid-template-columns:1fr}nav{display:none}}
h2{margin:1.5rem 0 .5rem;font-size:1.2rem}details{background:#fff;border:1px solid #d9e2ec;border-radius:6px;margin:.4rem 0}
summary{cursor:pointer;padding:.5rem .75rem;display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}summary code{font-weight:600}
.m{display:inline-block;min-width:4rem;text-align:center;font:700 .75rem/1.6 monospace;border-radius:4px;color:#fff;padding:0 .3rem}
.GET{background:#2f80ed}.POST{background:#27ae60}.PATCH{background:#b7791f}.DELETE{background:#c0392b}
.op{padding:.25rem .9rem .9rem;border-top:1px solid #eef2f7}table{border-collapse:collapse;width:100%;font-size:.875rem;margin:.3rem 0}
th,td{text-align:left;border-bottom:1px solid #eef2f7;padding:.25rem .4rem;vertical-align:top}pre{background:#f0f4f8;padding:.6rem;border-radius:4px;overflow:auto;font-size:.8rem;max-height:24rem}
textarea{width:100%;font:.8rem monospace;min-height:8rem}.try input{font:inherit;padding:.2rem .4rem;margin:.1rem .4rem .1rem 0}
button{font:inherit;padding:.35rem .9rem;border-radius:4px;border:1px solid #243b53;background:#243b53;color:#fff;cursor:pointer}
.muted{color:#627d98;font-size:.85rem}.scope{font:.75rem monospace;background:#e3f8ff;padding:0 .3rem;border-radius:3px}
:focus-visible{outline:3px solid #f0b429;outline-offset:2px}`;

const SCRIPT = `
(function () {
  var token = "";
  var el = function (tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") n.textContent = attrs[k]; else n.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { if (c) n.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return n;
  };
  var doc;
  var resolve = function (s) {
    if (s && s.$ref) return doc.components.schemas[s.$ref.split("/").pop()] || {};
    return s || {};
  };
  var typeOf = function (s) {
    s = resolve(s);
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    if (s.anyOf || s.oneOf) return (s.anyOf || s.oneOf).map(typeOf).join(" | ");
    if (s.type === "array") return typeOf(s.items) + "[]";
    var t = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "any";
    var c = [];
    if (s.format) c.push(s.format);
    ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"].forEach(function (k) { if (s[k] !== undefined && Math.abs(s[k]) < 1e15) c.push(k + " " + s[k]); });
    if (s.default !== undefined) c.push("default " + JSON.stringify(s.default));
    return t + (c.length ? " (" + c.join(", ") + ")" : "");
  };
  var rows = function (schema, prefix, out, depth) {
    schema = resolve(schema);
    var variants = schema.anyOf || schema.oneOf;
    if (variants && depth === 0) { variants.forEach(function (v, i) { out.push(el("tr", {}, [el("th", { colspan: "3", text: "variant " + (i + 1) })])); rows(v, prefix, out, depth); }); return out; }
    var props = schema.properties || {};
    Object.keys(props).forEach(function (name) {
      var p = resolve(props[name]);
      var req = (schema.required || []).indexOf(name) >= 0;
      out.push(el("tr", {}, [el("td", {}, [el("code", { text: prefix + name })]), el("td", { text: typeOf(p) }), el("td", { text: req ? "required" : "" })]));
      var inner = p.type === "array" ? resolve(p.items) : p;
      if (depth < 2 && inner.properties) rows(inner, prefix + name + (p.type === "array" ? "[]." : "."), out, depth + 1);
    });
    return out;
  };
  var table = function (head, body) { return el("table", {}, [el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]), el("tbody", {}, body)]); };

  function tryIt(path, method, op) {
    var params = op.parameters || [];
    var inputs = {};
    var box = el("div", { class: "try" }, [el("h4", { text: "Try it" })]);
    params.forEach(function (p) {
      var id = "p-" + op.operationId + "-" + p.name;
      inputs[p.name] = el("input", { id: id, value: p.example || "", placeholder: p.in });
      box.appendChild(el("label", { for: id }, [p.name + (p.required ? " *" : "") + " "]));
      box.appendChild(inputs[p.name]);
    });
    var example = op.requestBody && op.requestBody.content["application/json"].example;
    var body = op.requestBody ? el("textarea", { "aria-label": "request body" }) : null;
    if (body) body.value = example === undefined ? "" : JSON.stringify(example, null, 2);
    if (body) box.appendChild(body);
    var out = el("pre", { "aria-live": "polite", text: "" });
    var send = el("button", { type: "button", text: "Send " + method.toUpperCase() });
    send.addEventListener("click", function () {
      var url = path.replace(/\\{(\\w+)\\}/g, function (_, n) { return encodeURIComponent(inputs[n].value); });
      var q = new URLSearchParams();
      params.forEach(function (p) { if (p.in === "query" && inputs[p.name].value) q.set(p.name, inputs[p.name].value); });
      if (String(q)) url += "?" + q;
      var headers = {};
      if (token) headers.authorization = "Bearer " + token;
      if (body && body.value.trim()) headers["content-type"] = "application/json";
      out.textContent = "…";
      fetch(url, { method: method.toUpperCase(), headers: headers, body: body && body.value.trim() ? body.value : undefined })
        .then(function (res) { return res.text().then(function (t) {
          var pretty = t; try { pretty = JSON.stringify(JSON.parse(t), null, 2); } catch (e) {}
          out.textContent = res.status + " " + res.statusText + "\\nx-request-id: " + (res.headers.get("x-request-id") || "") + "\\n\\n" + pretty;
        }); })
        .catch(function (e) { out.textContent = String(e); });
    });
    box.appendChild(el("p", {}, [send]));
    box.appendChild(out);
    return box;
  }

  function operation(path, method, op) {
    var sec = (op.security || []).map(function (s) { return Object.keys(s)[0]; }).join(" or ") || "none (signed URL or provider signature)";
    var parts = [
      op.description ? el("p", { text: op.description }) : null,
      el("p", { class: "muted" }, ["Auth: " + sec + " ", op["x-required-scope"] ? el("span", { class: "scope", text: "scope " + op["x-required-scope"] }) : null]),
    ];
    if (op.parameters) parts.push(el("h4", { text: "Parameters" }), table(["name", "in", "type"], op.parameters.map(function (p) { return el("tr", {}, [el("td", {}, [el("code", { text: p.name + (p.required ? " *" : "") })]), el("td", { text: p.in }), el("td", { text: typeOf(p.schema) })]); })));
    if (op.requestBody) {
      var media = op.requestBody.content["application/json"];
      parts.push(el("h4", { text: "Body: " + media.schema.$ref.split("/").pop() + (op.requestBody.required ? "" : " (optional)") }), table(["field", "type", ""], rows(media.schema, "", [], 0)));
      parts.push(el("h4", { text: "Example" }), el("pre", { text: JSON.stringify(media.example, null, 2) }));
    }
    parts.push(el("h4", { text: "Responses" }), table(["status", "description"], Object.keys(op.responses).map(function (s) {
      var r = op.responses[s]; if (r.$ref) r = doc.components.responses[r.$ref.split("/").pop()];
      return el("tr", {}, [el("td", { text: s }), el("td", { text: r.description })]);
    })));
    parts.push(tryIt(path, method, op));
    return el("details", { id: op.operationId }, [el("summary", {}, [el("span", { class: "m " + method.toUpperCase(), text: method.toUpperCase() }), el("code", { text: path }), el("span", { text: op.summary })]), el("div", { class: "op" }, parts)]);
  }

  document.getElementById("token").addEventListener("input", function (e) { token = e.target.value.trim(); });
  fetch("openapi.json").then(function (r) { return r.json(); }).then(function (d) {
    doc = d;
    document.getElementById("intro").textContent = d.info.description;
    var byTag = {};
    Object.keys(d.paths).forEach(function (path) { Object.keys(d.paths[path]).forEach(function (m) { var op = d.paths[path][m]; (byTag[op.tags[0]] = byTag[op.tags[0]] || []).push(operation(path, m, op)); }); });
    var nav = document.getElementById("nav"), list = document.getElementById("ops");
    d.tags.forEach(function (t) {
      var id = "tag-" + t.name.replace(/\\W+/g, "-");
      nav.appendChild(el("a", { href: "#" + id, text: t.name }));
      list.appendChild(el("h2", { id: id, text: t.name }));
      (byTag[t.name] || []).forEach(function (n) { list.appendChild(n); });
    });
  }).catch(function (e) { document.getElementById("ops").textContent = "Could not load openapi.json: " + e; });
})();`;

export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Herald API reference</title><style>${STYLE}</style></head>
<body><header><h1>Herald API</h1><label for="token">Bearer token (API key, admin or inbox token; kept in this page only)</label>
<input id="token" type="password" autocomplete="off" spellcheck="false"><a href="openapi.json" style="color:#9fb3c8">openapi.json</a></header>
<main><nav id="nav" aria-label="Sections"></nav><section><p id="intro" class="muted"></p><div id="ops"></div></section></main>
<script>${SCRIPT}</script></body></html>`;
