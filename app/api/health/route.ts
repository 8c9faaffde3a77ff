import { health } from '@/lib/server/health';
import { json, route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route.public(async () => json(await health()));
