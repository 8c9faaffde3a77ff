import { listNodeTypes } from '@/lib/server/node-types';
import { json, route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(() => json({ nodeTypes: listNodeTypes() }));
