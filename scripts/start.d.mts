export const DEFAULT_HOST: string;
export const SEMI_SPACE_MB: number;
export const SERVER_NODE_FLAGS: string[];
export const NEXT_BIN: string;
export function newestMtime(p: string): number;
export function buildIsStale(): boolean;
export function serverEnv<E extends Record<string, string | undefined>>(
  env?: E,
): E & { NODE_OPTIONS: string };
export function startCommand(env?: Record<string, string | undefined>): {
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
};
