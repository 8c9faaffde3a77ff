import { deleteModelPrices, getModelPrices, putModelPrices } from '@/lib/server/settings';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getModelPrices);
export const PUT = route(putModelPrices);
export const DELETE = route(deleteModelPrices);
