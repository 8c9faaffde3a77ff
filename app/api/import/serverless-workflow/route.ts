import { importServerlessWorkflowDocument } from '@/lib/server/import-serverless-workflow';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(importServerlessWorkflowDocument);
