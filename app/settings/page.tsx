export const dynamic = 'force-dynamic';

export default function SettingsPage() {
  return (
    <div className="mx-auto w-full max-w-4xl p-6">
      <h1 className="text-xl font-semibold">Settings</h1>
      <p className="mt-2 text-sm text-slate-600">
        Model endpoint, secrets, API tokens and model prices live here.
      </p>
    </div>
  );
}
