import { receiveWebhook } from '@/lib/server/hooks';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
// One URL per webhook trigger node of a workflow; public like /api/hooks/:workflowId (the secret authenticates).
export const POST = route.public(receiveWebhook);
