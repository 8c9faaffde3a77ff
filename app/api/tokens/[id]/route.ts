import { deleteToken } from '@/lib/server/auth';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const DELETE = route(deleteToken);
