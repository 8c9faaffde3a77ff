export const CLI_BUNDLE: string;
export function cliIsStale(bundle?: string): boolean;
export function buildCli(bundle?: string): Promise<string>;
export function ensureCli(bundle?: string): Promise<string>;
