import { openApiDocument } from './openapi';

// GET /api/docs: the OpenAPI document as one self-contained HTML page (no script, no CDN, no
// fonts), rendered on the server. Scalar and Redoc would need a bundle we do not ship; a reference
// page that lists every operation with its parameters, body, responses and auth is enough to read
// the API, and /api/openapi.json is there for tools.

type Json = Record<string, unknown>;

const esc = (s: unknown) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/** Pretty JSON with `$ref`s turned into links to the schema section. */
function schemaHtml(schema: unknown): string {
  const text = esc(JSON.stringify(schema ?? {}, null, 2));
  return `<pre>${text.replace(
    /&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g,
    (_m, name: string) => `<a href="#schema-${esc(name)}">&quot;${esc(name)}&quot;</a>`,
  )}</pre>`;
}

function contentHtml(content: Json | undefined): string {
  if (!content) return '';
  return Object.entries(content)
    .map(([type, c]) => `<div class="ct">${esc(type)}</div>${schemaHtml((c as Json).schema)}`)
    .join('');
}

const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete'];

export function apiReferenceHtml(): string {
  const doc = openApiDocument() as unknown as Json;
  const info = doc.info as Json;
  const paths = doc.paths as Record<string, Record<string, Json>>;
  const schemes = ((doc.components as Json)?.securitySchemes ?? {}) as Record<string, Json>;
  const schemas = ((doc.components as Json)?.schemas ?? {}) as Record<string, unknown>;

  const byTag = new Map<string, string[]>();
  for (const [p, methods] of Object.entries(paths)) {
    for (const m of METHOD_ORDER) {
      const op = methods[m];
      if (!op) continue;
      const tag = ((op.tags as string[]) ?? ['Other'])[0];
      const anchor = `${m}-${p}`.replace(/[^A-Za-z0-9]+/g, '-');
      const security = (op.security as Json[] | undefined) ?? [];
      const auth = security.length ? security.map((s) => Object.keys(s).join(' + ')).join(' or ') : 'public';
      const params = (op.parameters as Json[] | undefined) ?? [];
      const body = op.requestBody as Json | undefined;
      const responses = (op.responses ?? {}) as Record<string, Json>;
      const html = `<section class="op" id="${esc(anchor)}">
  <h3><span class="m ${esc(m)}">${esc(m.toUpperCase())}</span> <code>${esc(p)}</code></h3>
  <p>${esc(op.summary)}</p>${op.description ? `<p class="d">${esc(op.description)}</p>` : ''}
  <p class="auth">Auth: ${esc(auth)}</p>
  ${
    params.length
      ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>${params
          .map(
            (x) =>
              `<tr><td><code>${esc(x.name)}</code></td><td>${esc(x.in)}</td><td>${x.required ? 'yes' : 'no'}</td><td><code>${esc(JSON.stringify(x.schema ?? {}))}</code></td></tr>`,
          )
          .join('')}</table>`
      : ''
  }
  ${body ? `<h4>Request body</h4>${contentHtml(body.content as Json)}` : ''}
  <h4>Responses</h4>${Object.entries(responses)
    .map(
      ([status, r]) =>
        `<details><summary><b>${esc(status)}</b> ${esc(r.description)}</summary>${contentHtml(r.content as Json)}</details>`,
    )
    .join('')}
</section>`;
      const list = byTag.get(tag) ?? [];
      list.push(html);
      byTag.set(tag, list);
    }
  }

  const toc = [...byTag.keys()].map((t) => `<a href="#tag-${esc(t)}">${esc(t)}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} ${esc(info.version)}: API reference</title>
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:24px;color:#1c1f24;background:#fafafa}
h1{margin:0 0 4px}h2{margin-top:40px;border-bottom:1px solid #ddd}h3{margin:0 0 4px;font-size:15px}
.op{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 16px;margin:12px 0}
.m{display:inline-block;min-width:56px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px}
.get{background:#2f7d32}.post{background:#1565c0}.put{background:#ef6c00}.patch{background:#6a1b9a}.delete{background:#c62828}
pre{background:#f3f4f6;padding:8px;border-radius:4px;overflow:auto;max-height:360px;font-size:12px}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #e3e3e3;padding:2px 8px;text-align:left}
.auth{color:#555;font-size:12px}.ct{color:#555;font-size:12px;margin-top:4px}.d{color:#333}
</style></head><body>
<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1>
<p>${esc(info.description)}</p>
<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<h2>Authentication</h2>
<table><tr><th>scheme</th><th>type</th><th>where</th><th></th></tr>${Object.entries(schemes)
    .map(
      ([name, s]) =>
        `<tr><td><code>${esc(name)}</code></td><td>${esc(s.type)}${s.scheme ? ` (${esc(s.scheme)})` : ''}</td><td>${esc(s.in ?? 'header')} ${s.name ? `<code>${esc(s.name)}</code>` : '<code>Authorization</code>'}</td><td>${esc(s.description)}</td></tr>`,
    )
    .join('')}</table>
<p>${toc}</p>
${[...byTag.entries()].map(([t, ops]) => `<h2 id="tag-${esc(t)}">${esc(t)}</h2>${ops.join('\n')}`).join('\n')}
<h2>Schemas</h2>
${Object.entries(schemas)
  .map(
    ([name, s]) =>
      `<section class="op" id="schema-${esc(name)}"><h3>${esc(name)}</h3>${schemaHtml(s)}</section>`,
  )
  .join('\n')}
</body></html>`;
}
