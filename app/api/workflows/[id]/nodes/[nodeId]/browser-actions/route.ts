import { acceptBrowserActions } from '@/lib/server/browser-steps';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const POST = route(acceptBrowserActions);
