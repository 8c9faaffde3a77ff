'use client';
import { Button } from '@/components/ui/button';
import type { RunFailure } from './use-run';

// Failures explained where the user looks: a banner naming the step a run stopped at, and the
// step's error in the inspector with the fix when one is known.

export function RunFailureBanner({
  failure,
  stepName,
  onOpen,
  onDismiss,
}: {
  failure: RunFailure;
  stepName: string;
  onOpen(): void;
  onDismiss(): void;
}) {
  return (
    <div
      role="alert"
      aria-label="Run failed"
      className="flex items-center gap-3 border-b border-red-200 bg-red-50 px-3 py-1.5 text-xs text-red-900"
    >
      <span className="min-w-0 truncate">
        Run failed at <strong>{stepName}</strong>: {failure.message}
      </span>
      <Button size="sm" variant="secondary" onClick={onOpen}>
        Open step
      </Button>
      <Button size="sm" variant="ghost" onClick={onDismiss} className="ml-auto">
        Dismiss
      </Button>
    </div>
  );
}

interface StepError {
  code?: string;
  message?: string;
  details?: { host?: string; allowable?: boolean; thrownBy?: string } & Record<string, unknown>;
}

const asStepError = (v: unknown): StepError | null =>
  typeof v === 'object' && v !== null && 'message' in v ? (v as StepError) : null;

/** What kind of failure this is, in words: the code is for machines. */
function labelFor(e: StepError): string {
  if (e.details?.thrownBy === 'code') return 'Thrown by this step’s code';
  switch (e.code) {
    case 'ssrf_blocked':
      return 'Blocked address';
    case 'http_error':
      return 'HTTP error';
    case 'node_timeout':
      return 'Timed out';
    case 'expression_error':
    case 'expression_syntax_error':
    case 'expression_timeout':
      return 'Expression error';
    default:
      return e.code ?? 'Error';
  }
}

export function StepErrorView({
  error,
  stepType,
  allowHosts,
  onAllowHost,
}: {
  error: unknown;
  stepType: string;
  allowHosts: string[];
  onAllowHost(host: string): void;
}) {
  const e = asStepError(error);
  if (!e) return null;
  const host = e.details?.host;
  const fix =
    e.code === 'ssrf_blocked' && e.details?.allowable && host && stepType === 'http.request'
      ? allowHosts.includes(host)
        ? 'added'
        : 'offer'
      : null;
  return (
    <div role="alert" aria-label="Step error" className="space-y-1 rounded-md bg-red-50 p-2">
      <div className="text-[11px] font-semibold text-red-700">
        {labelFor(e)}
        {e.code && <span className="ml-1 font-mono font-normal text-red-500">({e.code})</span>}
      </div>
      <p className="text-xs break-words text-red-900">{e.message}</p>
      {fix === 'offer' && (
        <div className="flex items-center gap-2 pt-1">
          <Button size="sm" variant="secondary" onClick={() => onAllowHost(host!)}>
            Allow {host}
          </Button>
          <span className="text-[11px] text-red-800">adds it to this step&apos;s allowed hosts</span>
        </div>
      )}
      {fix === 'added' && (
        <p className="text-[11px] text-red-800">{host} is now allowed: save and run again.</p>
      )}
    </div>
  );
}
