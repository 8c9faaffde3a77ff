// Outbound HTTP limits, named so tests and docs point at one place.

/** Redirects followed by the guarded fetch; each hop is checked by the SSRF guard again. */
export const MAX_REDIRECTS = 5;
/** Default per-request response size cap; a node may lower or raise it up to the hard cap. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** No node config may raise the cap past this. */
export const MAX_RESPONSE_BYTES = 50 * 1024 * 1024;
/** Used when neither the caller's signal nor the node's timeoutMs bounds a request. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
