import pg from 'pg';
import type { EngineEvent } from '@/lib/engine/events';
import type { SqlQueryable } from '@/lib/db/sql-executor';
import { EVENT_FLUSH_MS, MAX_EVENT_PAYLOAD_BYTES, RUN_EVENTS_CHANNEL } from './limits';

// Engine events cross processes as Postgres NOTIFY: workers send them, web processes LISTEN and
// feed their RunEventHub, so SSE works whichever worker runs the run. Events are batched into one
// statement (pg_notify over unnest keeps their order, and delivery happens in commit order), and
// packed as JSON arrays into as few notifications as the payload limit allows: a 100,000-step run
// emits 200,000 events, and one notification each cost the web process (parsing on its event loop)
// and Postgres (the notification queue) more than the events are worth.
// NOTIFY is best effort (nothing is replayed after a reconnect); the SSE handler sends a snapshot
// first, so a client that reloads is always right.

export interface EventPublisher {
  publish(ev: EngineEvent): void;
  flush(): Promise<void>;
}

/** Shrinks an event until it fits a NOTIFY payload; the trace in the database keeps everything. */
export function encodeEvent(ev: EngineEvent): string {
  let s = JSON.stringify(ev);
  if (Buffer.byteLength(s) <= MAX_EVENT_PAYLOAD_BYTES) return s;
  const slim: Record<string, unknown> = { ...ev, truncated: true };
  for (const k of ['output', 'error', 'input']) delete slim[k];
  s = JSON.stringify(slim);
  if (Buffer.byteLength(s) <= MAX_EVENT_PAYLOAD_BYTES) return s;
  return JSON.stringify({ type: ev.type, runId: ev.runId, truncated: true });
}

/**
 * Encoded events packed in order into JSON arrays of at most MAX_EVENT_PAYLOAD_BYTES each (an event
 * that fills one alone goes as `[event]`, two bytes more, still well below Postgres's 8,000).
 */
export function packEvents(encoded: string[]): string[] {
  const out: string[] = [];
  let part: string[] = [];
  let bytes = 2; // the brackets
  for (const e of encoded) {
    const size = Buffer.byteLength(e) + 1; // and its comma
    if (part.length && bytes + size > MAX_EVENT_PAYLOAD_BYTES) {
      out.push(`[${part.join(',')}]`);
      part = [];
      bytes = 2;
    }
    part.push(e);
    bytes += size;
  }
  if (part.length) out.push(`[${part.join(',')}]`);
  return out;
}

/** The events of one notification: an array (packEvents), or a single event. */
export function decodeEvents(payload: string): EngineEvent[] {
  const parsed = JSON.parse(payload) as EngineEvent | EngineEvent[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

export function createEventPublisher(sql: SqlQueryable): EventPublisher {
  let buf: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> = Promise.resolve();
  const send = () => {
    timer = null;
    const batch = buf;
    buf = [];
    if (!batch.length) return writing;
    writing = writing.then(() =>
      sql
        .query(`SELECT pg_notify($1, x) FROM unnest($2::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i`, [
          RUN_EVENTS_CHANNEL,
          packEvents(batch),
        ])
        .then(
          () => {},
          () => {}, // live updates are best effort; the trace is the record
        ),
    );
    return writing;
  };
  return {
    publish(ev) {
      buf.push(encodeEvent(ev));
      // A run's end is what a waiting caller (webhook, wait: true) answers on: sent now, with
      // whatever is batched before it, not after EVENT_FLUSH_MS.
      if (ev.type === 'run.finished') {
        if (timer) clearTimeout(timer);
        void send();
      } else if (!timer) {
        timer = setTimeout(send, EVENT_FLUSH_MS);
        timer.unref?.();
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      await send();
    },
  };
}

export interface EventListener {
  close(): Promise<void>;
}

/** Engine events of every worker, for this process's RunEventHub (the web process). */
export function listenRunEvents(
  databaseUrl: string,
  onEvent: (ev: EngineEvent) => void,
  onReconnect?: () => void,
): EventListener {
  return listenChannel(
    databaseUrl,
    RUN_EVENTS_CHANNEL,
    (payload) => {
      try {
        for (const ev of decodeEvents(payload)) onEvent(ev);
      } catch {
        // a malformed payload is dropped, not fatal
      }
    },
    onReconnect,
  );
}

/**
 * LISTEN on one channel over a dedicated connection (LISTEN needs one session), reconnecting with
 * backoff; onReconnect after every (re)connection, so a caller can look for what it missed.
 */
export function listenChannel(
  databaseUrl: string,
  channel: string,
  onPayload: (payload: string) => void,
  onReconnect?: () => void,
): EventListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
  let client: pg.Client | null = null;
  let closed = false;
  let retryMs = 100;
  let retryTimer: NodeJS.Timeout | null = null;
  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: databaseUrl });
    c.on('error', () => schedule(c));
    c.on('end', () => schedule(c));
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload) onPayload(n.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (closed) return void c.end().catch(() => {});
      client = c;
      retryMs = 100;
      onReconnect?.();
    } catch {
      schedule(c);
    }
  };
  const schedule = (c: pg.Client) => {
    if (closed || (client && client !== c)) return;
    client = null;
    c.removeAllListeners('end');
    c.end().catch(() => {});
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void connect();
    }, retryMs);
    retryTimer.unref?.();
    retryMs = Math.min(retryMs * 2, 5_000);
  };
  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
