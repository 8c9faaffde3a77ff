import { me } from '@/lib/server/auth';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
// Public so it can say "not signed in" (401) together with whether setup is still needed.
export const GET = route.public(me);
