import { RunsList } from '@/components/traces/runs-list';

export const dynamic = 'force-dynamic';

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function RunsPage({ searchParams }: { searchParams: Search }) {
  const sp = await searchParams;
  const one = (k: string) => (typeof sp[k] === 'string' ? (sp[k] as string) : '');
  return (
    <RunsList
      initial={{
        workflowId: one('workflowId'),
        status: one('status'),
        from: one('from'),
        to: one('to'),
        q: one('q'),
      }}
    />
  );
}
