import { createSecret, listSecrets } from '@/lib/server/secrets';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(listSecrets);
export const POST = route(createSecret);
