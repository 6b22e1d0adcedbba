/**
 * /docs: a readable API reference rendered in the browser from /api/v1/openapi.json. Self-contained
 * (no CDN), and every value from the document is inserted as text, never as HTML.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Bloonio Relay API reference</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
main{max-width:1100px;margin:0 auto;padding:16px 28px}
nav a{margin-right:12px}
section.tag{margin-top:28px}section.tag>h2{border-bottom:2px solid #d7dbe3;padding-bottom:4px}
details.op{background:#fff;border:1px solid #d7dbe3;border-radius:6px;margin:8px 0;padding:8px 12px}
summary{cursor:pointer;font-weight:600}
.m{display:inline-block;min-width:52px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px;margin-right:8px;text-transform:uppercase}
.get{background:#2f7d32}.post{background:#1f5fbf}.put{background:#a56a00}.delete{background:#b3261e}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f0f2f5;padding:8px;border-radius:4px;overflow:auto;max-height:360px}
.sec{color:#6b7385;font-size:13px}table{border-collapse:collapse}td,th{border:1px solid #d7dbe3;padding:3px 8px;text-align:left;font-size:13px}
</style></head>
<body><header><h1>Bloonio Relay API reference</h1><div id="version"></div></header>
<main><p id="intro"></p><p><a href="/api/v1/openapi.json">openapi.json</a></p><nav id="toc"></nav><div id="ops"></div></main>
<script>
const el = (tag, attrs = {}, ...kids) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); for (const k of kids) e.append(k); return e; };
const text = (t) => document.createTextNode(String(t ?? ''));
fetch('/api/v1/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('version').append(text('version ' + doc.info.version));
  document.getElementById('intro').append(text(doc.info.description));
  const byTag = new Map();
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags || ['Other'])[0]; if (!byTag.has(tag)) byTag.set(tag, []); byTag.get(tag).push({ path, method, op });
  }
  const toc = document.getElementById('toc'), ops = document.getElementById('ops');
  for (const [tag, list] of byTag) {
    const id = tag.replace(/[^a-z0-9]+/gi, '-');
    toc.append(el('a', { href: '#' + id }, text(tag)));
    const sec = el('section', { class: 'tag', id }, el('h2', {}, text(tag)));
    for (const { path, method, op } of list) {
      const d = el('details', { class: 'op' }, el('summary', {}, el('span', { class: 'm ' + method }, text(method)), el('code', {}, text(path)), text(' — ' + op.summary)));
      if (op.description) d.append(el('p', {}, text(op.description)));
      d.append(el('p', { class: 'sec' }, text('Auth: ' + ((op.security || []).map((s) => Object.keys(s).join(' + ')).join(' or ') || 'none'))));
      if (op.parameters?.length) { const t = el('table', {}, el('tr', {}, el('th', {}, text('query')), el('th', {}, text('required')), el('th', {}, text('schema')))); for (const p of op.parameters) t.append(el('tr', {}, el('td', {}, el('code', {}, text(p.name))), el('td', {}, text(p.required ? 'yes' : 'no')), el('td', {}, el('code', {}, text(JSON.stringify(p.schema)))))); d.append(t); }
      if (op.requestBody) d.append(el('h4', {}, text('Request body')), el('pre', {}, text(JSON.stringify(op.requestBody.content['application/json'].schema, null, 2))));
      for (const [status, resp] of Object.entries(op.responses)) {
        if (resp.$ref) { d.append(el('div', { class: 'sec' }, text(status + ': ' + doc.components.responses[resp.$ref.split('/').pop()].description))); continue; }
        d.append(el('h4', {}, text('Response ' + status)), el('pre', {}, text(JSON.stringify(resp.content['application/json'].schema.properties.data, null, 2))));
      }
      sec.append(d);
    }
    ops.append(sec);
  }
});
</script></body></html>`;
