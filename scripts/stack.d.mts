export function buildIfStale(): boolean;
export function startStack(opts: {
  port: string | number;
  mockLlmPort: string | number;
  chromium?: string | null;
  mockLlmArgs?: string[];
  serverStdio?: 'inherit' | 'ignore';
}): Promise<{ base: string; env: Record<string, string | undefined>; stop(): Promise<void> }>;
export function createFreshDatabase(
  baseUrl: string,
  prefix?: string,
): Promise<{ url: string; drop(): Promise<void> }>;
