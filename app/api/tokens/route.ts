import { createToken, listTokens } from '@/lib/server/auth';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(listTokens);
export const POST = route(createToken);
