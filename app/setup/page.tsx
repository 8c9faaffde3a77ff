import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { AuthForm } from '@/components/auth/auth-form';
import { setupState } from '@/lib/server/auth';

export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  const state = await setupState(await headers());
  if (!state.setupRequired) redirect('/login');
  return <AuthForm mode="setup" setupTokenRequired={state.setupTokenRequired} />;
}
