import { importN8nWorkflow } from '@/lib/server/import';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(importN8nWorkflow);
