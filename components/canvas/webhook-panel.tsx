'use client';
import { useCallback, useEffect, useState } from 'react';
import Link from 'next/link';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { StatusBadge } from '@/components/ui/status-badge';

// The webhook trigger's panel: where to post, with which header and secret (revealed, copied or
// rotated on request), a ready curl line, and the last request the workflow received (the newest
// run its webhook started). The secret comes from GET /api/workflows/:id, which only the signed-in
// owner can read; rotating calls POST /api/workflows/:id/webhook/rotate.

interface WebhookInfo {
  url: string;
  header: string;
  secret: string;
}
interface LastRequest {
  id: string;
  status: string;
  createdAt: string;
  input?: unknown;
}

const MASK = '••••••••••••••••';

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function curlFor(info: WebhookInfo, origin: string, secret: string): string {
  return [
    `curl -X POST '${origin}${info.url}' \\`,
    `  -H 'content-type: application/json' \\`,
    `  -H '${info.header}: ${secret}' \\`,
    `  -d '{"hello": "world"}'`,
  ].join('\n');
}

export function WebhookPanel({ workflowId, savedVersion }: { workflowId: string; savedVersion: number }) {
  const [info, setInfo] = useState<WebhookInfo | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [revealed, setRevealed] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [last, setLast] = useState<LastRequest | null | undefined>(undefined);
  const origin = typeof window === 'undefined' ? '' : window.location.origin;

  useEffect(() => {
    let live = true;
    api<{ webhook?: WebhookInfo }>(`/api/workflows/${workflowId}`).then(
      (r) => live && setInfo(r.webhook ?? null),
      (e) => live && setError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
    // savedVersion: a save may add the trigger to the stored workflow and so create the secret.
  }, [workflowId, savedVersion]);

  const loadLast = useCallback(async () => {
    try {
      const r = await api<{ runs: LastRequest[] }>(
        `/api/runs?workflowId=${encodeURIComponent(workflowId)}&trigger=webhook&limit=1`,
      );
      const run = r.runs[0];
      if (!run) return setLast(null);
      const full = await api<{ run: LastRequest }>(`/api/runs/${run.id}?stepLimit=1`);
      setLast({ ...run, input: full.run.input });
    } catch {
      setLast(null);
    }
  }, [workflowId]);
  useEffect(() => {
    void loadLast();
  }, [loadLast]);

  const flash = (text: string) => {
    setMessage(text);
    setTimeout(() => setMessage((m) => (m === text ? null : m)), 2500);
  };
  const copy = async (what: string, text: string) =>
    flash((await copyText(text)) ? `${what} copied` : `Copy refused by the browser: select and copy by hand`);

  const rotate = async () => {
    setBusy(true);
    try {
      const next = await api<WebhookInfo>(`/api/workflows/${workflowId}/webhook/rotate`, { method: 'POST' });
      setInfo(next);
      setRevealed(true);
      setConfirmRotate(false);
      flash('New secret created; the old one no longer works');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  if (error) return <p className="text-xs text-red-600">Webhook: {error}</p>;
  if (info === undefined) return <p className="text-xs text-slate-500">Loading webhook…</p>;
  if (info === null)
    return (
      <p className="text-xs text-slate-600">Save the workflow to get this webhook&apos;s URL and secret.</p>
    );

  const url = `${origin}${info.url}`;
  const field = 'w-full truncate rounded-md bg-slate-50 px-2 py-1 font-mono text-[11px] text-slate-800';
  return (
    <div className="space-y-3 text-xs" aria-label="Webhook">
      <div>
        <div className="mb-1 text-[11px] font-medium text-slate-600">URL (POST)</div>
        <div className="flex items-center gap-1">
          <code aria-label="Webhook URL" className={field} title={url}>
            {url}
          </code>
          <Button size="sm" variant="ghost" onClick={() => void copy('URL', url)}>
            Copy URL
          </Button>
        </div>
      </div>
      <div>
        <div className="mb-1 text-[11px] font-medium text-slate-600">Header</div>
        <code aria-label="Webhook header name" className={field}>
          {info.header}
        </code>
      </div>
      <div>
        <div className="mb-1 text-[11px] font-medium text-slate-600">Secret</div>
        <code aria-label="Webhook secret" className={`${field} block`}>
          {revealed ? info.secret : MASK}
        </code>
        <div className="mt-1 flex flex-wrap gap-1">
          <Button size="sm" variant="ghost" onClick={() => setRevealed((r) => !r)}>
            {revealed ? 'Hide secret' : 'Reveal secret'}
          </Button>
          <Button size="sm" variant="ghost" onClick={() => void copy('Secret', info.secret)}>
            Copy secret
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setConfirmRotate(true)} disabled={busy}>
            Rotate secret
          </Button>
        </div>
        {confirmRotate && (
          <div role="alertdialog" aria-label="Rotate secret?" className="mt-2 rounded-md bg-amber-50 p-2">
            <p className="text-amber-800">
              Callers using the current secret will be refused from their next request.
            </p>
            <div className="mt-2 flex gap-1">
              <Button size="sm" variant="danger" onClick={() => void rotate()} disabled={busy}>
                Rotate now
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setConfirmRotate(false)}>
                Cancel
              </Button>
            </div>
          </div>
        )}
      </div>
      <div>
        <div className="mb-1 flex items-center justify-between">
          <span className="text-[11px] font-medium text-slate-600">Try it</span>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => void copy('curl command', curlFor(info, origin, info.secret))}
          >
            Copy curl
          </Button>
        </div>
        <pre
          aria-label="curl command"
          className="overflow-x-auto rounded-md bg-slate-900 p-2 font-mono text-[10px] leading-relaxed text-slate-100"
        >
          {curlFor(info, origin, revealed ? info.secret : '$TRELLIS_WEBHOOK_SECRET')}
        </pre>
      </div>
      <div aria-label="Last request" role="group">
        <div className="mb-1 flex items-center justify-between">
          <span className="text-[11px] font-medium text-slate-600">Last request received</span>
          <Button size="sm" variant="ghost" onClick={() => void loadLast()}>
            Refresh
          </Button>
        </div>
        {last === undefined ? (
          <p className="text-slate-500">Loading…</p>
        ) : last === null ? (
          <p className="text-slate-500">None yet. Calls with a wrong secret are refused and not recorded.</p>
        ) : (
          <div className="space-y-1">
            <div className="flex items-center gap-2">
              <time dateTime={last.createdAt} className="text-slate-600">
                {new Date(last.createdAt).toLocaleString()}
              </time>
              <StatusBadge status={last.status} />
              <Link href={`/runs/${last.id}`} className="text-brand-700 hover:underline">
                Open run
              </Link>
            </div>
            <pre
              aria-label="Last request body"
              className="max-h-32 overflow-auto rounded-md bg-slate-50 p-2 font-mono text-[11px] text-slate-700"
            >
              {JSON.stringify(last.input, null, 2)}
            </pre>
          </div>
        )}
      </div>
      {message && (
        <p role="status" className="text-brand-700">
          {message}
        </p>
      )}
    </div>
  );
}
