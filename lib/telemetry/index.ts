import type { Tracer } from '@/lib/engine/tracing';
import { telemetryConfigFromEnv } from './config';
import type { Telemetry, TelemetryStats } from './otel-tracer';

export type { Telemetry, TelemetryStats } from './otel-tracer';
export { telemetryConfigFromEnv, type TelemetryConfig } from './config';

// One exporter per process, built from the environment when a host starts (kept on globalThis like
// the runtime: Next.js may load this module in more than one bundle). The OpenTelemetry SDK is
// imported only when an exporter is configured: loaded, it is ~20 MB of every web and worker
// process (issue 21, idle memory), and most installs export nothing.

const KEY = Symbol.for('trellis.telemetry');
type Holder = { [KEY]?: Promise<Telemetry | null> };
const LOADED = Symbol.for('trellis.telemetry.loaded');
type Loaded = { [LOADED]?: Telemetry | null };

/**
 * Starts the process's telemetry (once; later calls share it): null when export is off (no OTLP
 * endpoint configured), and then the SDK is never imported. Every host awaits it before it builds
 * an engine (createRuntime, `trellis worker`, `trellis run`).
 */
export function startTelemetry(serviceVersion?: string): Promise<Telemetry | null> {
  const g = globalThis as Holder & Loaded;
  g[KEY] ??= (async () => {
    const config = telemetryConfigFromEnv();
    if (!config) return (g[LOADED] = null);
    const { createTelemetry } = await import('./otel-tracer');
    const t = createTelemetry(config, { serviceVersion });
    // Spans still queued when the process winds down would be lost; a short-lived CLI run is
    // exactly that case.
    process.once('beforeExit', () => void t.shutdown());
    return (g[LOADED] = t);
  })();
  return g[KEY];
}

/** The process's telemetry once started; null when export is off or not started yet. */
export function getTelemetry(): Telemetry | null {
  return (globalThis as Loaded)[LOADED] ?? null;
}

/** The engine's tracer when export is on (after startTelemetry); undefined leaves the engine without tracing. */
export function engineTracer(): Tracer | undefined {
  return getTelemetry()?.tracer;
}

/** For /api/health: whether export is on and what happened to the spans so far. */
export function telemetryHealth(): TelemetryStats {
  const t = getTelemetry();
  return t ? t.stats() : { enabled: false, exported: 0, dropped: 0, failed: 0 };
}
