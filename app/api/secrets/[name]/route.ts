import { deleteSecret } from '@/lib/server/secrets';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const DELETE = route(deleteSecret);
