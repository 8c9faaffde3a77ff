import { isRec } from './record';

// Shapes of the CNCF Serverless Workflow DSL 1.0 that both the importer (lib/import) and the
// sw.task runtime (lib/nodes/serverless-workflow) read, so they read them the same way.

/** An endpoint is a URI template string or `{ uri, authentication? }`: the URI either way. */
export function endpointUri(endpoint: unknown): unknown {
  return isRec(endpoint) ? endpoint.uri : endpoint;
}

/** The task lists nested in a task (`do`, `try`, `catch.do`, `fork.branches`), with their JSON pointer from it. */
export function nestedTaskLists(task: Record<string, unknown>): { path: string; list: unknown[] }[] {
  const lists = [
    { path: 'do', list: task.do },
    { path: 'try', list: task.try },
    { path: 'catch/do', list: isRec(task.catch) ? task.catch.do : undefined },
    { path: 'fork/branches', list: isRec(task.fork) ? task.fork.branches : undefined },
  ];
  return lists.filter((l): l is { path: string; list: unknown[] } => Array.isArray(l.list));
}
