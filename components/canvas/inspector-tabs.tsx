'use client';
import { useState, type ComponentProps } from 'react';
import { api } from '@/components/ui/api';
import { PromotionTab } from '@/components/agent/promotion-tab';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { ConfigPanel } from './config-panel';

// The step inspector: Settings (the node's config) and, for agent-capable steps of a saved
// workflow, Promotion (rollout stage, gates, live numbers, log, report). Tabs follow the WAI-ARIA
// tabs pattern: ←/→ move between them.

type Props = ComponentProps<typeof ConfigPanel>;
type Tab = 'settings' | 'promotion';
const TABS: { id: Tab; label: string }[] = [
  { id: 'settings', label: 'Settings' },
  { id: 'promotion', label: 'Promotion' },
];

export function InspectorTabs(props: Props) {
  const [tab, setTab] = useState<Tab>('settings');
  const { step, info, workflowId, onChange, savedVersion } = props;
  if (!info?.agentCapable || !workflowId) return <ConfigPanel {...props} />;

  // The server wrote a new version (stage, gates, kill switch): mirror the step's rollout fields
  // into the editor so the canvas shows them and the next save keeps them.
  const mirror = async () => {
    const wf = await api<{ definition: WorkflowDefinition }>(
      `/api/workflows/${encodeURIComponent(workflowId)}`,
    );
    const saved = wf.definition.nodes.find((n) => n.id === step.id);
    if (saved) onChange((s) => ({ ...s, mode: saved.mode, agent: saved.agent }));
  };

  const tabId = (t: Tab) => `inspector-${step.id}-${t}`;
  return (
    <div className="flex min-h-0 w-80 shrink-0 flex-col border-l border-slate-200 bg-white">
      <div
        role="tablist"
        aria-label="Step inspector"
        className="flex gap-1 border-b border-slate-200 px-3 pt-2"
        onKeyDown={(e) => {
          if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
          const next = tab === 'settings' ? 'promotion' : 'settings';
          setTab(next);
          document.getElementById(tabId(next))?.focus();
        }}
      >
        {TABS.map((t) => (
          <button
            key={t.id}
            id={tabId(t.id)}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`${tabId(t.id)}-panel`}
            tabIndex={tab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
            className={`-mb-px rounded-t-md border-b-2 px-3 py-1.5 text-xs font-medium ${
              tab === t.id
                ? 'border-brand-600 text-slate-900'
                : 'border-transparent text-slate-500 hover:text-slate-800'
            }`}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div
        role="tabpanel"
        id={`${tabId(tab)}-panel`}
        aria-labelledby={tabId(tab)}
        className="flex min-h-0 flex-1 flex-col overflow-y-auto [&>aside]:w-full [&>aside]:border-l-0"
      >
        {tab === 'settings' ? (
          <ConfigPanel {...props} />
        ) : (
          <PromotionTab
            workflowId={workflowId}
            nodeId={step.id}
            savedVersion={savedVersion}
            onVersionSaved={() => void mirror()}
          />
        )}
      </div>
    </div>
  );
}
