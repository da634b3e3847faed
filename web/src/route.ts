// Hash routes, so the server serves one index.html and needs no fallback route:
// #/ (every run), #/experiments/NAME (an experiment's runs), #/runs/RUN_ID (a run),
// #/compare/RUN_ID,RUN_ID,... (runs side by side; run ids hold no commas), #/models and
// #/datasets (optionally /NAME, then /VERSION), #/pipelines (published pipelines, endpoints,
// schedules), #/designer (the designer's drawings), #/designer/NAME (a drawing on the canvas).
import { useSyncExternalStore } from "react";

export type Route =
  | { page: "runs"; experiment?: string }
  | { page: "run"; runId: string }
  | { page: "compare"; runIds: string[] }
  | { page: "drawings" }
  | { page: "drawing"; name: string }
  | { page: "assets"; kind: "model" | "dataset"; name?: string; version?: number }
  | { page: "pipelines" };

const ASSET_PAGES = { models: "model", datasets: "dataset" } as const;

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "experiments" && parts[1]) return { page: "runs", experiment: parts[1] };
  if (parts[0] === "runs" && parts[1]) return { page: "run", runId: parts[1] };
  if (parts[0] === "compare" && parts[1]) return { page: "compare", runIds: parts[1].split(",").filter(Boolean) };
  if (parts[0] === "designer") return parts[1] ? { page: "drawing", name: parts[1] } : { page: "drawings" };
  if (parts[0] === "models" || parts[0] === "datasets") {
    const kind = ASSET_PAGES[parts[0]];
    const version = Number(parts[2]);
    if (!parts[1]) return { page: "assets", kind };
    return Number.isInteger(version) && version >= 1
      ? { page: "assets", kind, name: parts[1], version }
      : { page: "assets", kind, name: parts[1] };
  }
  if (parts[0] === "pipelines") return { page: "pipelines" };
  return { page: "runs" };
}

export const href = {
  allRuns: () => "#/",
  experiment: (name: string) => `#/experiments/${encodeURIComponent(name)}`,
  run: (runId: string) => `#/runs/${encodeURIComponent(runId)}`,
  compare: (runIds: string[]) => `#/compare/${runIds.map(encodeURIComponent).join(",")}`,
  drawings: () => "#/designer",
  drawing: (name: string) => `#/designer/${encodeURIComponent(name)}`,
  /** a model's or dataset's page: every one, one name's versions, or one version */
  asset: (kind: "model" | "dataset", name?: string, version?: number) =>
    `#/${kind}s${name === undefined ? "" : `/${encodeURIComponent(name)}${version === undefined ? "" : `/${version}`}`}`,
  pipelines: () => "#/pipelines",
};

function subscribe(listener: () => void): () => void {
  window.addEventListener("hashchange", listener);
  return () => window.removeEventListener("hashchange", listener);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
