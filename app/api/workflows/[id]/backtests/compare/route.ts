import { route } from '@/lib/server/route';
import { compareBacktestsRoute } from '@/lib/server/backtests';

export const dynamic = 'force-dynamic';

export const GET = route(compareBacktestsRoute);
