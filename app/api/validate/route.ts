import { validateBody } from '@/lib/server/validate';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(validateBody);
