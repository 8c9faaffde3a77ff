// What the environment asks of telemetry. Standard OTEL_* variables first (so a team's existing
// collector setup works unchanged), TRELLIS_OTEL_* for what the standard does not cover.

/** Spans waiting for export; past this they are dropped (and counted), never buffered without bound. */
export const DEFAULT_MAX_QUEUE_SIZE = 2048;
export const DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;
/** Between two exports of a non-full batch (OTEL_BSP_SCHEDULE_DELAY). */
export const DEFAULT_SCHEDULE_DELAY_MS = 1000;
/** One export request (OTEL_EXPORTER_OTLP_TIMEOUT / OTEL_BSP_EXPORT_TIMEOUT). */
export const DEFAULT_EXPORT_TIMEOUT_MS = 10_000;
/** Longest exported attribute value (message contents, error messages); longer ones are cut. */
export const MAX_ATTRIBUTE_LENGTH = 8 * 1024;

export type SamplerConfig =
  | { kind: 'always_on' | 'always_off' }
  | { kind: 'traceidratio'; ratio: number }
  | { kind: 'parentbased'; root: 'always_on' | 'always_off' | 'traceidratio'; ratio: number };

export interface TelemetryConfig {
  /** OTLP/HTTP (JSON) traces URL, ending in /v1/traces. */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: SamplerConfig;
  captureContent: boolean;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
}

type Env = Record<string, string | undefined>;

const trimmed = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);

function positiveInt(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

/** `k1=v1,k2=v2` with URL-encoded values (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
export function parseKeyValues(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    try {
      out[key] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      out[key] = part.slice(i + 1).trim();
    }
  }
  return out;
}

function samplerFrom(env: Env): SamplerConfig {
  const name = (trimmed(env.OTEL_TRACES_SAMPLER) ?? 'parentbased_always_on').toLowerCase();
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio = Number.isFinite(arg) && arg >= 0 && arg <= 1 ? arg : 1;
  switch (name) {
    case 'always_on':
    case 'always_off':
      return { kind: name };
    case 'traceidratio':
      return { kind: 'traceidratio', ratio };
    case 'parentbased_always_off':
      return { kind: 'parentbased', root: 'always_off', ratio };
    case 'parentbased_traceidratio':
      return { kind: 'parentbased', root: 'traceidratio', ratio };
    default:
      return { kind: 'parentbased', root: 'always_on', ratio };
  }
}

function tracesUrl(env: Env): string | undefined {
  const specific = trimmed(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (specific) return specific;
  const base = trimmed(env.OTEL_EXPORTER_OTLP_ENDPOINT) ?? trimmed(env.TRELLIS_OTEL_ENDPOINT);
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** null: export is off (no endpoint set, OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none). */
export function telemetryConfigFromEnv(env: Env = process.env): TelemetryConfig | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return null;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return null;
  const url = tracesUrl(env);
  if (!url) return null;
  const resourceAttributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  return {
    url,
    headers: {
      ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    serviceName: trimmed(env.OTEL_SERVICE_NAME) ?? resourceAttributes['service.name'] ?? 'trellis',
    resourceAttributes,
    sampler: samplerFrom(env),
    // The GenAI conventions' opt-in, and Trellis' own name for it.
    captureContent:
      env.TRELLIS_OTEL_CAPTURE_CONTENT?.trim().toLowerCase() === 'true' ||
      env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase() === 'true',
    maxQueueSize: positiveInt(env.OTEL_BSP_MAX_QUEUE_SIZE, DEFAULT_MAX_QUEUE_SIZE),
    maxExportBatchSize: positiveInt(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, DEFAULT_MAX_EXPORT_BATCH_SIZE),
    scheduledDelayMillis: positiveInt(env.OTEL_BSP_SCHEDULE_DELAY, DEFAULT_SCHEDULE_DELAY_MS),
    exportTimeoutMillis: positiveInt(
      env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT ?? env.OTEL_BSP_EXPORT_TIMEOUT,
      DEFAULT_EXPORT_TIMEOUT_MS,
    ),
  };
}
