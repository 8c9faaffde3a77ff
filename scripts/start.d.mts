export const DEFAULT_HOST: string;
export function newestMtime(p: string): number;
export function buildIsStale(): boolean;
export function startCommand(env?: Record<string, string | undefined>): {
  args: string[];
  env: Record<string, string | undefined>;
};
