import { WorkflowList } from '@/components/canvas/workflow-list';

export const dynamic = 'force-dynamic';

export default function WorkflowsPage() {
  return <WorkflowList />;
}
