import { getPromotion, postPromotion } from '@/lib/server/promotion';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
export const GET = route(getPromotion);
export const POST = route(postPromotion);
