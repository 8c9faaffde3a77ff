// What a payload becomes on its way into the trace, in one place for the engine, the stores and
// the trace viewer: secret values masked once (redact.ts), then serialized and capped once
// (trace.ts), with one marker for a capped field (marker.ts); a large value parsed from JSON keeps
// its text (json-text.ts). Pure: no storage, no framework.

export * from './json-text';
export * from './marker';
export * from './redact';
export * from './trace';
