import type { Tracer } from '@/lib/engine/tracing';
import { telemetryConfigFromEnv } from './config';
import { createTelemetry, type Telemetry, type TelemetryStats } from './otel-tracer';

export { createTelemetry, type Telemetry, type TelemetryStats } from './otel-tracer';
export { telemetryConfigFromEnv, type TelemetryConfig } from './config';

// One exporter per process, built from the environment the first time a host asks (kept on
// globalThis like the runtime: Next.js may load this module in more than one bundle).

const KEY = Symbol.for('trellis.telemetry');
type Holder = { [KEY]?: Telemetry | null };

/** The process's telemetry, or null when export is off (no OTLP endpoint configured). */
export function getTelemetry(serviceVersion?: string): Telemetry | null {
  const g = globalThis as Holder;
  if (g[KEY] === undefined) {
    const config = telemetryConfigFromEnv();
    const t = config ? createTelemetry(config, { serviceVersion }) : null;
    // Spans still queued when the process winds down would be lost; a short-lived CLI run is
    // exactly that case.
    if (t) process.once('beforeExit', () => void t.shutdown());
    g[KEY] = t;
  }
  return g[KEY];
}

/** The engine's tracer when export is on; undefined leaves the engine without tracing. */
export function engineTracer(serviceVersion?: string): Tracer | undefined {
  return getTelemetry(serviceVersion)?.tracer;
}

/** For /api/health: whether export is on and what happened to the spans so far. */
export function telemetryHealth(serviceVersion?: string): TelemetryStats {
  const t = getTelemetry(serviceVersion);
  return t ? t.stats() : { enabled: false, exported: 0, dropped: 0, failed: 0 };
}
