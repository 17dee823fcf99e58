/**
 * The API reference page (GET /docs): one self-contained HTML page that renders the OpenAPI
 * document (GET /v1/openapi.json) in the browser and lets a reader try each request with their key.
 * No third-party request: the style and script are inline, allowed by their hashes in a strict
 * Content-Security-Policy, and the script reaches only this API's own origin. The page builds its
 * DOM with textContent (never innerHTML), so nothing in the document can inject markup.
 */
import { createHash } from 'node:crypto';
import type { RouteMap } from './http';
import { openApiDocument } from './openapi';

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--code:#f6f8fa;--accent:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--code:#161b22;--accent:#4493f8}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
header{position:sticky;top:0;background:var(--bg);border-bottom:1px solid var(--line);padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap;z-index:1}
header h1{font-size:1.1rem;margin:0}main{display:grid;grid-template-columns:16rem 1fr;gap:1rem;padding:1rem;max-width:80rem;margin:auto}
nav ul{list-style:none;padding:0;margin:0 0 1rem}nav a{color:var(--accent);text-decoration:none;display:block;padding:.1rem 0;font-size:.9rem}
nav h2{font-size:.8rem;text-transform:uppercase;color:var(--muted);margin:.8rem 0 .2rem}
section.op{border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem;scroll-margin-top:4rem}
header input{max-width:26rem;margin-left:auto}
.m{font:600 .8rem ui-monospace,monospace;padding:.1rem .4rem;border-radius:4px;border:1px solid var(--line);margin-right:.4rem}
code,pre,textarea,input{font-family:ui-monospace,monospace;font-size:.85rem}code{background:var(--code);padding:0 .2rem;border-radius:3px}
pre{background:var(--code);padding:.6rem;border-radius:6px;overflow:auto;max-height:24rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}td,th{border-top:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top;font-size:.88rem}
.muted{color:var(--muted)}details{margin:.4rem 0}summary{cursor:pointer}
label{display:block;margin:.3rem 0 .1rem;font-size:.85rem}input,textarea{width:100%;padding:.3rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
button{margin-top:.5rem;padding:.35rem .9rem;border:1px solid var(--accent);background:var(--accent);color:#fff;border-radius:4px;cursor:pointer}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
@media (max-width:50rem){main{grid-template-columns:1fr}nav{display:none}}
`;

// Plain browser JavaScript (ES2020), kept small: render the document, send a request.
const SCRIPT = `
(async () => {
  const el = (tag, attrs, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined) n.setAttribute(k, v);
    for (const k of kids) if (k !== undefined && k !== null) n.append(k);
    return n;
  };
  const text = (s) => {
    const p = el('p');
    String(s || '').split(/\`([^\`]*)\`/).forEach((part, i) => p.append(i % 2 ? el('code', {}, part) : part));
    return p;
  };
  const res = await fetch('./v1/openapi.json');
  const doc = await res.json();
  const schemas = doc.components.schemas;
  const resolve = (s) => (s && s.$ref ? schemas[s.$ref.split('/').pop()] || {} : s || {});
  // Schemas may be recursive (a template variable's value is any JSON): types are spelt to a depth.
  const typeOf = (s0, depth = 0) => {
    const s = resolve(s0);
    if (depth > 3) return 'any';
    if (s.anyOf) return s.anyOf.map((x) => typeOf(x, depth + 1)).join(' | ');
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.type === 'array') return typeOf(s.items, depth + 1) + '[]';
    return [].concat(s.type || 'any').join(' | ');
  };
  const limits = (s0) => {
    const s = resolve(s0);
    const out = [];
    for (const k of ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems', 'pattern', 'default'])
      if (s[k] !== undefined) out.push(k + ' ' + JSON.stringify(s[k]));
    return out.join(', ');
  };
  const schemaTable = (s0, depth) => {
    const s = resolve(s0);
    const obj = s.type === 'array' ? resolve(s.items) : s;
    if (!obj.properties || depth > 3) return el('p', { class: 'muted' }, typeOf(s0));
    const t = el('table', {}, el('tr', {}, el('th', {}, 'field'), el('th', {}, 'type'), el('th', {}, 'notes')));
    for (const [name, p] of Object.entries(obj.properties)) {
      const r = resolve(p);
      const nested = (r.type === 'object' && r.properties) || (r.type === 'array' && resolve(r.items).properties);
      t.append(el('tr', {},
        el('td', {}, el('code', {}, name), (obj.required || []).includes(name) ? ' *' : ''),
        el('td', {}, typeOf(p)),
        el('td', {}, limits(p), nested ? el('details', {}, el('summary', {}, 'fields'), schemaTable(p, depth + 1)) : '')));
    }
    return t;
  };
  const example = (s0, depth) => {
    const s = resolve(s0);
    if (depth > 4) return null;
    if (s.default !== undefined) return s.default;
    if (s.anyOf) return example(s.anyOf[0], depth + 1);
    if (s.enum) return s.enum[0];
    if (s.type === 'object') {
      const o = {};
      for (const k of s.required || []) o[k] = example(s.properties[k], depth + 1);
      return o;
    }
    if (s.type === 'array') return [example(s.items, depth + 1)];
    if (s.type === 'integer' || s.type === 'number') return s.minimum || 1;
    if (s.type === 'boolean') return true;
    return 'string';
  };
  const key = el('input', { type: 'password', id: 'key', autocomplete: 'off', placeholder: 'Bearer key for "Try it" (kept in this page only)', 'aria-label': 'API key' });
  document.body.append(el('header', {}, el('h1', {}, doc.info.title + ' API reference'), el('span', { class: 'muted' }, 'OpenAPI ' + doc.openapi + ' · ', el('a', { href: './v1/openapi.json' }, 'openapi.json')), key));
  const nav = el('nav', { 'aria-label': 'Operations' });
  const content = el('div');
  document.body.append(el('main', {}, nav, content));
  content.append(el('h1', {}, doc.info.title), text(doc.info.description));
  for (const tag of doc.tags) {
    const ops = [];
    for (const [path, item] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(item)) if (op.tags.includes(tag.name)) ops.push([path, method, op]);
    if (ops.length === 0) continue;
    const list = el('ul');
    nav.append(el('h2', {}, tag.name), list);
    content.append(el('h2', { id: 'tag-' + tag.name }, tag.name), text(tag.description));
    for (const [path, method, op] of ops) {
      list.append(el('li', {}, el('a', { href: '#' + op.operationId }, op.summary)));
      const sec = el('section', { class: 'op', id: op.operationId, 'aria-labelledby': op.operationId + '-h' });
      sec.append(el('h3', { id: op.operationId + '-h' }, el('span', { class: 'm' }, method.toUpperCase()), el('code', {}, path)), el('p', {}, op.summary));
      for (const para of (op.description || '').split('\\n\\n')) sec.append(text(para));
      const params = op.parameters || [];
      if (params.length) {
        const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'notes')));
        for (const p of params) t.append(el('tr', {}, el('td', {}, el('code', {}, p.name), p.required ? ' *' : ''), el('td', {}, p.in), el('td', {}, typeOf(p.schema)), el('td', {}, p.description || limits(p.schema))));
        sec.append(el('h4', {}, 'Parameters'), t);
      }
      const body = op.requestBody && op.requestBody.content['application/json'].schema;
      if (body) sec.append(el('h4', {}, 'Request body' + (op.requestBody.required ? '' : ' (optional)')), schemaTable(body, 0));
      const rt = el('table', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'meaning')));
      for (const [status, r] of Object.entries(op.responses)) {
        const c = r.content && r.content['application/json'];
        rt.append(el('tr', {}, el('td', {}, status), el('td', {}, r.description, c && Number(status) < 300 ? el('details', {}, el('summary', {}, 'body'), schemaTable(c.schema, 0)) : '')));
      }
      sec.append(el('h4', {}, 'Responses'), rt);
      // Try it: the request as the form says, with the key above, to this API only.
      const form = el('form');
      const inputs = {};
      for (const p of params) {
        const id = op.operationId + '-' + p.in + '-' + p.name;
        inputs[id] = p;
        form.append(el('label', { for: id }, p.name + ' (' + p.in + ')'), el('input', { id, name: id }));
      }
      let bodyField;
      if (body) {
        bodyField = el('textarea', { rows: '8', id: op.operationId + '-body', 'aria-label': 'request body' });
        bodyField.value = JSON.stringify(example(body, 0), null, 2);
        form.append(el('label', { for: op.operationId + '-body' }, 'body'), bodyField);
      }
      const out = el('pre', { 'aria-live': 'polite' });
      form.append(el('button', { type: 'submit' }, 'Send'));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        let url = '.' + path;
        const query = new URLSearchParams();
        const headers = { 'content-type': 'application/json' };
        if (key.value) headers.authorization = 'Bearer ' + key.value.replace(/^Bearer\\s+/i, '');
        for (const [id, p] of Object.entries(inputs)) {
          const v = form.elements.namedItem(id).value;
          if (v === '') continue;
          if (p.in === 'path') url = url.replace('{' + p.name + '}', encodeURIComponent(v));
          else if (p.in === 'query') query.set(p.name, v);
          else headers[p.name] = v;
        }
        const qs = query.toString();
        out.textContent = 'Sending…';
        try {
          const r = await fetch(url + (qs ? '?' + qs : ''), { method: method.toUpperCase(), headers, body: bodyField && bodyField.value.trim() ? bodyField.value : undefined });
          const t = await r.text();
          let shown = t;
          try { shown = JSON.stringify(JSON.parse(t), null, 2); } catch {}
          out.textContent = r.status + ' ' + r.statusText + '\\n' + shown;
        } catch (e) {
          out.textContent = String(e);
        }
      });
      sec.append(el('details', {}, el('summary', {}, 'Try it'), form, out));
      content.append(sec);
    }
  }
})();
`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The page's policy: nothing but its own inline style and script, and requests to this API. */
export const DOCS_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  // The page's icon is empty (data:), so the browser asks for no favicon.
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>mailroute API reference</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><noscript>This page renders <a href="./v1/openapi.json">the OpenAPI document</a> with JavaScript.</noscript>
<script>${SCRIPT}</script></body></html>`;

export function apiReferenceRoutes(): RouteMap<'GET /v1/openapi.json' | 'GET /docs'> {
  return {
    'GET /v1/openapi.json': {
      auth: false,
      handle: async () => ({
        status: 200,
        body: openApiDocument(),
        headers: { 'cache-control': 'public, max-age=300' },
      }),
    },
    'GET /docs': {
      auth: false,
      handle: async () => ({
        status: 200,
        html: DOCS_PAGE,
        headers: { 'content-security-policy': DOCS_CSP, 'cache-control': 'public, max-age=300' },
      }),
    },
  };
}
