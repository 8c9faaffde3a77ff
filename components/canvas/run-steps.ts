// A run's steps as the editor reads them: the run answer carries the first page, the rest comes
// page by page from GET /api/runs/:id/steps?cursor= (docs/api.md). A long run's later steps (the
// node after a map of 100,000 items) are far past the first page, so stopping there left their
// nodes looking skipped.

/** A step as the run answer, its pages and the event stream describe it (no payloads). */
export interface StepEvent {
  stepId?: string;
  id?: string;
  nodeId: string;
  status: string;
  mode?: string;
  parentNodeId?: string | null;
  error?: { code?: string; message?: string };
}

/** GET a path of the API and parse its JSON (the app passes components/ui/api's `api`). */
export type ApiGet = <T>(path: string) => Promise<T>;

/** Steps per request: the API's most, so a 100,000-step run is 20 requests. */
export const STEP_PAGE_SIZE = 5_000;

/**
 * Every step of the run, in start order, handed to `onPage` one page at a time (a run of any size
 * is never held whole); resolves to the run. Stops early once `alive()` turns false.
 */
export async function readRunSteps(
  get: ApiGet,
  runId: string,
  onPage: (steps: StepEvent[]) => void,
  alive: () => boolean = () => true,
  pageSize = STEP_PAGE_SIZE,
): Promise<{ status?: string } | undefined> {
  const first = await get<{ run?: { status?: string }; steps: StepEvent[]; stepsCursor?: string | null }>(
    `/api/runs/${runId}?stepLimit=${pageSize}`,
  );
  onPage(first.steps ?? []);
  let cursor = first.stepsCursor;
  while (cursor && alive()) {
    const page = await get<{ steps: StepEvent[]; nextCursor: string | null }>(
      `/api/runs/${runId}/steps?limit=${pageSize}&cursor=${encodeURIComponent(cursor)}`,
    );
    onPage(page.steps);
    cursor = page.nextCursor;
  }
  return first.run;
}
