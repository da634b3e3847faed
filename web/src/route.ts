// Hash routes, so the server serves one index.html and needs no fallback route:
// #/ (every run), #/experiments/NAME (an experiment's runs), #/runs/RUN_ID (a run),
// #/compare/RUN_ID,RUN_ID,... (runs side by side; run ids hold no commas), #/designer (the
// designer's drawings), #/designer/NAME (a drawing on the canvas).
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "runs"; experiment?: string }
  | { page: "run"; runId: string }
  | { page: "compare"; runIds: string[] }
  | { page: "drawings" }
  | { page: "drawing"; name: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "experiments" && parts[1]) return { page: "runs", experiment: parts[1] };
  if (parts[0] === "runs" && parts[1]) return { page: "run", runId: parts[1] };
  if (parts[0] === "compare" && parts[1]) return { page: "compare", runIds: parts[1].split(",").filter(Boolean) };
  if (parts[0] === "designer") return parts[1] ? { page: "drawing", name: parts[1] } : { page: "drawings" };
  return { page: "runs" };
}

export const href = {
  allRuns: () => "#/",
  experiment: (name: string) => `#/experiments/${encodeURIComponent(name)}`,
  run: (runId: string) => `#/runs/${encodeURIComponent(runId)}`,
  compare: (runIds: string[]) => `#/compare/${runIds.map(encodeURIComponent).join(",")}`,
  drawings: () => "#/designer",
  drawing: (name: string) => `#/designer/${encodeURIComponent(name)}`,
};

function subscribe(listener: () => void): () => void {
  window.addEventListener("hashchange", listener);
  return () => window.removeEventListener("hashchange", listener);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
