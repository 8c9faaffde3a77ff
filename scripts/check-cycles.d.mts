export function folderOf(file: string): string;
export function cyclesOf(graph: Map<string, Iterable<string>>): string[][];
export function folderGraph(files: Record<string, string[]>): {
  graph: Map<string, Set<string>>;
  why: Map<string, string>;
};
