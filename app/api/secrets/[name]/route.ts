import { deleteSecret } from '@/lib/secrets/api';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const DELETE = route(deleteSecret);
