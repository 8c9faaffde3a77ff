import type { VersionMoved } from '@/lib/db/repositories/workflows';
import { TrellisError, ValidationError } from '@/lib/workflow/errors';
import { INT4_MAX } from './limits';

// A workflow's ETag is its latest version number: GET answers it, a save may send it back in
// If-Match (or as `baseVersion` in the body) to write only if nobody saved in between.

export const etagFor = (version: number) => `"${version}"`;

/** The base version a save names, from the body or If-Match; undefined when it names none. */
export function baseVersionOf(bodyBase: number | undefined, ifMatch: string | null): number | undefined {
  const header = ifMatch === null || ifMatch.trim() === '*' ? undefined : parseEtag(ifMatch);
  if (bodyBase !== undefined && header !== undefined && bodyBase !== header) {
    throw new ValidationError([
      {
        path: '/baseVersion',
        code: 'mismatch',
        message: `baseVersion ${bodyBase} differs from If-Match ${ifMatch}: send one`,
      },
    ]);
  }
  return bodyBase ?? header;
}

function parseEtag(raw: string): number {
  const m = /^\s*(?:W\/)?"(\d{1,10})"\s*$/.exec(raw);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > INT4_MAX) {
    throw new ValidationError([
      {
        path: '/baseVersion',
        code: 'invalid_if_match',
        message: `If-Match must be one ETag from GET /api/workflows/{id}, e.g. "3" (got ${raw.slice(0, 40)})`,
      },
    ]);
  }
  return n;
}

/** 409 version_conflict: the save was based on `base`, the workflow is at `current` now. */
export function versionConflict(id: string, base: number, current: VersionMoved['conflict']) {
  const note = current.note ? ` (${current.note})` : '';
  return new TrellisError(
    'version_conflict',
    `Workflow ${id} changed since version ${base}: the latest is version ${current.version}${note}`,
    {
      details: {
        baseVersion: base,
        currentVersion: current.version,
        note: current.note,
        createdAt: current.createdAt,
      },
    },
  );
}
