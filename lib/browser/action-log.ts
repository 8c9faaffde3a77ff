import type { BrowserAction, Fingerprint, Target } from './schema';

// What a browser step records of its actions, shared by the runner that writes it and the trace
// view that draws it: one shape and one way to name a target. Pure (type-only imports) so that
// components/ can import it without pulling in playwright.

export interface ActionLog {
  index: number;
  type: BrowserAction['type'];
  /** The target as configured (replay) or as the agent chose it. */
  target?: Target;
  /** What the action acted on: recorded as the target's `expect` when a sequence is accepted. */
  observed?: Fingerprint;
  /** fill: the value as written in the config (a template), never the text typed. */
  value?: string;
  by: 'replay' | 'agent';
  status: 'ok' | 'missing' | 'failed';
  /** ms since the step's browser work began, and the action's own duration. */
  startMs: number;
  durationMs: number;
  url?: string;
  screenshot?: string;
  /** Artifact id of the page's HTML after the action (config `domSnapshots`). */
  dom?: string;
  error?: string;
}

/** The part of a browser step's output (or of a failed step's error details) a trace shows. */
export interface BrowserTrace {
  /** Every action attempted, with what it acted on and its timing (the trace's waterfall). */
  actions: ActionLog[];
  /** Requests the guard refused, with the reason. */
  blocked: Array<{ url: string; reason: string; navigation: boolean }>;
  /** Artifact ids of the step's screenshots, in order. */
  screenshots: string[];
  healed?: { fromAction: number; reason: string };
}

const straight = (s: string) => `"${s}"`;

/**
 * A target as a person names it: `button "Save"`, `label "Email"`. Error messages quote
 * straight; the trace view passes typographic quotes.
 */
export function describeTarget(t: Target, quote: (s: string) => string = straight): string {
  if (t.role) return `${t.role}${t.name !== undefined ? ` ${quote(t.name)}` : ''}`;
  if (t.label) return `label ${quote(t.label)}`;
  if (t.text) return `text ${quote(t.text)}`;
  return `css ${t.css}`;
}
