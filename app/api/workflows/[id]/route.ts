import { deleteWorkflow, getWorkflow, patchWorkflow, saveWorkflow } from '@/lib/server/workflows';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getWorkflow);
export const PUT = route(saveWorkflow);
export const DELETE = route(deleteWorkflow);
export const PATCH = route(patchWorkflow);
