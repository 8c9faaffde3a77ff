import { describe, expect, it } from 'vitest';
import { importRefusing } from '@/lib/server/testing/import-probe';

// Issue 21 (idle memory): the OpenTelemetry SDK is ~20 MB of RSS in every web and worker process.
// It is imported only when an exporter is configured (startTelemetry).

const SDK = [
  '@opentelemetry/sdk-trace',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/core',
  '@opentelemetry/resources',
];
const HOSTS = [
  'lib/server/runtime.ts',
  'lib/server/health.ts',
  'cli/worker.ts',
  'cli/run.ts',
  'lib/telemetry/index.ts',
];
const env = (extra: Record<string, string>) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'TRELLIS_OTEL_ENDPOINT',
  ])
    if (!(k in extra)) delete e[k];
  return e;
};
const start = `const t = await (await import(${JSON.stringify('@/lib/telemetry')})).startTelemetry('test');
console.log(t ? 'enabled' : 'off');`;

describe('OpenTelemetry SDK', () => {
  it('is not loaded by the hosts, nor by starting telemetry without an exporter', () => {
    const r = importRefusing(HOSTS, SDK, { then: start, env: env({}) });
    expect(r.stderr).not.toMatch(/refused import/);
    expect(r.stdout.trim().split('\n')).toEqual(['off', 'ok']);
  }, 60_000);

  it('is loaded when an exporter is configured (the gate is startTelemetry)', () => {
    const refused = importRefusing(HOSTS, SDK, {
      then: start,
      env: env({ TRELLIS_OTEL_ENDPOINT: 'http://127.0.0.1:9' }),
    });
    expect(refused.stderr).toMatch(/refused import: @opentelemetry\//);
    const allowed = importRefusing(HOSTS, [], {
      then: `${start}\nawait (await import('@/lib/telemetry')).getTelemetry().shutdown();`,
      env: env({ TRELLIS_OTEL_ENDPOINT: 'http://127.0.0.1:9' }),
    });
    expect(allowed.stdout.trim().split('\n')).toEqual(['enabled', 'ok']);
  }, 60_000);
});
