import { getDb } from '@/lib/db/client';
import { getRuntime } from './runtime';
import { VERSION } from './version';
import { telemetryHealth } from '@/lib/telemetry';
import { warmWebhookRoute } from './warm-up';

export async function health() {
  const db = await getDb();
  // Additive: where runs go. In server mode `queue.workers` 0 means runs wait until a
  // `trellis worker` starts (the UI says so). Asked at the same time as the database check: each
  // round trip waits its turn on a busy event loop, so health answers after the slower one, not
  // after both.
  const [, queue] = await Promise.all([
    db.prisma.$queryRawUnsafe('SELECT 1'),
    getRuntime()
      .then((rt) => rt.dispatcher.stats?.())
      .catch(() => undefined),
  ]);
  // Ready means warm: the webhook route has served one request (its modules loaded) first.
  await warmWebhookRoute();
  return {
    ok: true,
    db: db.kind,
    version: VERSION,
    ...(queue ? { queue, workers: queue.workers } : {}),
    // Additive: OpenTelemetry export (off unless an OTLP endpoint is set) and spans it lost.
    telemetry: telemetryHealth(),
  };
}
