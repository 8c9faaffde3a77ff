import { setup, setupStatus } from '@/lib/server/auth';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route.public(setupStatus);
export const POST = route.public(setup);
