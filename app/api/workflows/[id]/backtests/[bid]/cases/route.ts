import { route } from '@/lib/server/route';
import { getBacktestCases } from '@/lib/server/backtests';

export const dynamic = 'force-dynamic';

export const GET = route(getBacktestCases);
