import { ModelSettings } from '@/components/agent/model-settings';
import { ApiTokensSection } from '@/components/settings/api-tokens-section';
import { SecretsSection } from '@/components/settings/secrets-section';

export const dynamic = 'force-dynamic';

// Sections: Model (endpoint status, prices) here; Secrets and API tokens are added by their
// owners below, each as its own <section>.
export default function SettingsPage() {
  return (
    <div className="mx-auto flex w-full max-w-4xl flex-col gap-6 p-6">
      <div>
        <h1 className="text-xl font-semibold">Settings</h1>
        <p className="mt-1 text-sm text-slate-600">Model endpoint and prices; secrets and API tokens.</p>
      </div>
      <ModelSettings />
      <SecretsSection />
      <ApiTokensSection />
    </div>
  );
}
