// Every limit of the definition format, named, so tests and docs can point at one place.
export const MAX_DEFINITION_BYTES = 2 * 1024 * 1024;
export const MAX_NODES = 2_000;
export const MAX_EDGES = 10_000;
export const MAX_STRING_LENGTH = 100_000;
export const MAX_NESTING_DEPTH = 64;
export const MAX_ID_LENGTH = 128;
export const MAX_RETRY_ATTEMPTS = 20;
export const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
export const MAX_AGENT_STEPS = 100;
