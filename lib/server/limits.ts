import { MAX_DEFINITION_BYTES } from '@/lib/workflow/limits';

// Request limits of the HTTP layer. A definition may be up to MAX_DEFINITION_BYTES; the
// envelope around it gets a little headroom.
export const MAX_REQUEST_BODY_BYTES = MAX_DEFINITION_BYTES + 64 * 1024;
export const MAX_RUN_INPUT_BYTES = 1024 * 1024;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
/**
 * Nesting of any JSON body (run inputs, webhook bodies, definitions). Definitions stop at
 * MAX_NESTING_DEPTH inside a node's config; this leaves room for the envelope around it.
 */
export const MAX_JSON_DEPTH = 128;
/** Largest value of a Postgres `integer` column (versions, counts): larger ones are 400, not a DB error. */
export const INT4_MAX = 2_147_483_647;
/** Dates accepted in filters and cursors: four-digit years, which every layer down to Postgres can hold. */
export const MIN_DATE = new Date('0001-01-01T00:00:00.000Z');
export const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');
export const dateInRange = (d: Date) =>
  !Number.isNaN(d.getTime()) && d.getTime() >= MIN_DATE.getTime() && d.getTime() <= MAX_DATE.getTime();
