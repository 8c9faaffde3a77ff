import { receiveWebhook } from '@/lib/server/hooks';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
// Public to the session/token check: the workflow's webhook secret authenticates instead.
export const POST = route.public(receiveWebhook);
