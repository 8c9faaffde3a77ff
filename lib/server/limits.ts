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
