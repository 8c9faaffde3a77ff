import { redirect } from 'next/navigation';
import { hasUser } from '@/lib/auth/store';
import { getDb } from '@/lib/db/client';
import { AuthForm } from '@/components/auth/auth-form';

export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  if (await hasUser((await getDb()).prisma)) redirect('/login');
  return <AuthForm mode="setup" />;
}
