import { WorkflowEditor } from '@/components/canvas/editor';

export const dynamic = 'force-dynamic';

export default async function EditorPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ version?: string }>;
}) {
  const { id } = await params;
  const { version } = await searchParams;
  const n = Number(version);
  // ?version=n opens that saved version (from a run's trace); saving it makes it the latest.
  return <WorkflowEditor workflowId={id} version={Number.isInteger(n) && n > 0 ? n : undefined} />;
}
