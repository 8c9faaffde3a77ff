import type { WorkflowDefinition } from '@/lib/workflow/definition';

// The history every backtest test and the benchmark replay: a ticket-labelling step whose
// deterministic rule calls refunds billing. The scripted model (echo scenario) labels a ticket by
// the first label word in its input, so it agrees on every class except refund tickets that
// mention a bug: that class is the known failure, `diff:/label` with billing → bug.

export const LABEL_SCHEMA = {
  type: 'object',
  properties: { label: { enum: ['billing', 'bug', 'other'] } },
  required: ['label'],
};

export function triageDefinition(opts: { allowHost?: string } = {}): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'Triage',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'label',
        type: 'transform',
        position: { x: 0, y: 100 },
        config: {
          value: {
            label:
              "{{ /invoice|refund/i.test(input.text) ? 'billing' : /crash/i.test(input.text) ? 'bug' : 'other' }}",
          },
          outputSchema: LABEL_SCHEMA,
        },
        agent: {
          instructions: 'Label the ticket.',
          tools: ['self', 'http'],
          ...(opts.allowHost ? { allowHosts: [opts.allowHost] } : {}),
        },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'label' }],
  } as WorkflowDefinition;
}

/** Ticket texts by class; `refund` is the class the scripted model gets wrong. */
export function triageTickets(scale = 1, linkBase?: string): { text: string; cls: string }[] {
  const out: { text: string; cls: string }[] = [];
  const add = (n: number, cls: string, text: (i: number) => string) => {
    for (let i = 0; i < n * scale; i++) out.push({ cls, text: text(i) });
  };
  add(12, 'billing', (i) => `billing question ${i} about my invoice`);
  add(8, 'bug', (i) => `the app crashes on start (${i}), a bug`);
  add(12, 'other', (i) => `hello ${i}, other things`);
  add(
    8,
    'refund',
    (i) => `refund please ${i}: the bug charged me twice${linkBase ? `; see ${linkBase}/customer/${i}` : ''}`,
  );
  return out;
}
