import { CompareView } from '@/components/traces/compare-view';

export const dynamic = 'force-dynamic';

type Search = Promise<Record<string, string | string[] | undefined>>;

export default async function ComparePage({ searchParams }: { searchParams: Search }) {
  const sp = await searchParams;
  const a = typeof sp.a === 'string' ? sp.a : '';
  const b = typeof sp.b === 'string' ? sp.b : '';
  return <CompareView a={a} b={b} />;
}
