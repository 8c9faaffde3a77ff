import { rotateWebhookSecret } from '@/lib/server/hooks';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(rotateWebhookSecret);
