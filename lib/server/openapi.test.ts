import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument, renderOpenApiJson } from './openapi';

// The OpenAPI document covers the whole API: every method every route file under app/api
// exports is in it (enumerated like the auth test does), with error shape and auth schemes;
// docs/openapi.json is what the code generates; both are served without credentials.

process.env.TRELLIS_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-openapi-'));
const API_DIR = path.resolve(import.meta.dirname, '../../app/api');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

function routeFiles(dir = API_DIR): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(p);
    return e.name === 'route.ts' ? [p] : [];
  });
}

type Op = {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  parameters?: { name: string; in: string }[];
};

const doc = openApiDocument() as unknown as {
  openapi: string;
  paths: Record<string, Record<string, Op>>;
  components: { securitySchemes: Record<string, Record<string, string>>; schemas: Record<string, unknown> };
};

describe('OpenAPI document', () => {
  const files = routeFiles();

  it('is OpenAPI 3.1 with bearer, cookie and webhook-secret schemes and one error shape', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.cookie).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'trellis_session',
    });
    expect(doc.components.securitySchemes.webhookSecret).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-trellis-webhook-secret',
    });
    expect(doc.components.schemas.Error).toMatchObject({ required: ['error'] });
  });

  it('has every method of every route file under app/api', async () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    const missing: string[] = [];
    let seen = 0;
    for (const file of files) {
      const rel = path.relative(API_DIR, path.dirname(file)).split(path.sep).join('/');
      const apiPath = `/api/${rel.replace(/\[(?:\.\.\.)?([^\]]+)\]/g, '{$1}')}`;
      const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
      for (const m of METHODS.filter((x) => typeof mod[x] === 'function')) {
        seen++;
        const op = doc.paths[apiPath]?.[m.toLowerCase()];
        if (!op) {
          missing.push(`${m} ${apiPath}`);
          continue;
        }
        // Every operation answers errors in the one shape.
        expect(JSON.stringify(op.responses.default), `${m} ${apiPath}`).toContain(
          '#/components/schemas/Error',
        );
        for (const name of apiPath.matchAll(/\{([^}]+)\}/g)) {
          expect(
            op.parameters?.some((p) => p.in === 'path' && p.name === name[1]),
            `${m} ${apiPath} ${name[1]}`,
          ).toBe(true);
        }
      }
    }
    expect(missing, 'route handlers missing from lib/server/openapi.ts').toEqual([]);
    expect(seen).toBeGreaterThanOrEqual(40);
  });

  it('takes request schemas from the handlers and states who may call what', () => {
    const start = doc.paths['/api/workflows/{id}/runs'].post;
    const body = start.requestBody!.content['application/json'].schema as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(body.properties).sort()).toEqual(['input', 'version', 'wait']);
    expect(start.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(Object.keys(start.responses)).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', 'default']),
    );
    expect(doc.paths['/api/hooks/{workflowId}'].post.security).toEqual([
      { webhookSecret: [] },
      { bearer: [] },
    ]);
    expect(doc.paths['/api/health'].get.security).toEqual([]);
    expect(doc.paths['/api/openapi.json'].get.security).toEqual([]);
    const runs = doc.paths['/api/runs'].get.parameters!.map((p) => `${p.in}:${p.name}`);
    expect(runs).toEqual(expect.arrayContaining(['query:status', 'query:cursor', 'query:limit']));
  });

  it('docs/openapi.json is current (npm run openapi:json)', () => {
    const file = path.resolve(import.meta.dirname, '../../docs/openapi.json');
    expect(fs.readFileSync(file, 'utf8'), 'docs/openapi.json is stale: run npm run openapi:json').toBe(
      renderOpenApiJson(),
    );
  });

  it('GET /api/openapi.json and /api/docs answer without credentials', async () => {
    const req = (p: string) =>
      new Request(`http://127.0.0.1:3999${p}`, { headers: { host: '127.0.0.1:3999' } });
    const ctx = { params: Promise.resolve({}) };
    const { GET: getDoc } = await import('@/app/api/openapi.json/route');
    const res = await getDoc(req('/api/openapi.json'), ctx);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(renderOpenApiJson()));
    const { GET: getPage } = await import('@/app/api/docs/route');
    const page = await getPage(req('/api/docs'), ctx);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    // Offline: no external script, stylesheet or font.
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!127\.0\.0\.1)/);
    for (const p of Object.keys(doc.paths)) expect(html).toContain(`<code>${p}</code>`);
  });
});
