import fs from 'node:fs';
import path from 'node:path';

// Every app/api route file with its exported methods, for suites that must cover every route
// (auth, body limits, fuzzing): a new route is covered the day it is added.

export const API_DIR = path.resolve(import.meta.dirname, '../../../app/api');
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];
export type RouteHandler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
/** Routes anyone may call: each decides for itself (webhooks check the workflow's own secret). */
export const PUBLIC_ROUTES = [/^health$/, /^demo\//, /^hooks(\/|$)/, /^auth\/(login|logout|setup|me)$/];

export interface RouteFile {
  /** Path under app/api, e.g. `runs/[id]/events`. */
  rel: string;
  file: string;
  /** Dynamic segment names in order; `catchAll` marks `[...name]`. */
  params: { name: string; catchAll: boolean }[];
  isPublic: boolean;
}

export function routeFiles(dir = API_DIR): RouteFile[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return routeFiles(p);
    if (e.name !== 'route.ts') return [];
    const rel = path.relative(API_DIR, dir).split(path.sep).join('/');
    const params = [...rel.matchAll(/\[(\.\.\.)?([^\]]+)\]/g)].map((m) => ({ name: m[2], catchAll: !!m[1] }));
    return [{ rel, file: p, params, isPublic: PUBLIC_ROUTES.some((r) => r.test(rel)) }];
  });
}

export async function routeMethods(rf: RouteFile): Promise<[Method, RouteHandler][]> {
  const mod = (await import(/* @vite-ignore */ rf.file)) as Record<string, unknown>;
  return METHODS.filter((m) => typeof mod[m] === 'function').map((m) => [m, mod[m] as RouteHandler]);
}

/** The URL path of a route with its params filled in (values URL-encoded). */
export function routePath(rf: RouteFile, values: Record<string, string | string[]>): string {
  let i = 0;
  return `/api/${rf.rel.replace(/\[(\.\.\.)?[^\]]+\]/g, () => {
    const p = rf.params[i++];
    const v = values[p.name];
    return Array.isArray(v) ? v.map(encodeURIComponent).join('/') : encodeURIComponent(v ?? 'x');
  })}`;
}
