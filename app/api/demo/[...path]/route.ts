import { demoApi } from '@/lib/server/demo-api';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
const handler = route.public<{ path: string[] }>(({ req, params }) => demoApi(req, params.path));
export const GET = handler;
export const POST = handler;
