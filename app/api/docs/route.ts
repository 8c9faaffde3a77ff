import { apiReferenceHtml } from '@/lib/server/api-docs';
import { route } from '@/lib/server/route';

export const dynamic = 'force-dynamic';
// Public like the document it renders; a self-contained page (no CDN, no script).
export const GET = route.public(
  () => new Response(apiReferenceHtml(), { headers: { 'content-type': 'text/html; charset=utf-8' } }),
);
