// The pipeline run submitted from the canvas, and its steps, read again every 2 seconds while
// it runs (and once more when it ends); nothing before a run is submitted.
import { TERMINAL, api } from "../api";
import { useFetch } from "../useFetch";
import { useRefreshWhile } from "../useRefreshWhile";

const LIVE_REFRESH_MS = 2000;

export function useLiveRun(runId: string | undefined) {
  const run = useFetch(() => (runId ? api.run(runId) : Promise.resolve(undefined)), `run ${runId ?? ""}`);
  const steps = useFetch(() => (runId ? api.pipelineSteps(runId) : Promise.resolve([])), `steps ${runId ?? ""}`);
  const live = runId !== undefined && !(run.data && TERMINAL.has(run.data.status));
  useRefreshWhile(live, LIVE_REFRESH_MS, run.reload, steps.reload);
  return { run, steps };
}
