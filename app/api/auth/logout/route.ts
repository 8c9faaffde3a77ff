import { logout } from '@/lib/server/auth';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route.public(logout);
