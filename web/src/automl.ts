// An AutoML run as its parent stores it: iterations are child runs with the properties
// "iteration", "run_algorithm", "run_preprocessor" and, for an ensemble, "ensembled_iterations";
// the best is the tag "automl_best_child_run_id"; the data guardrails are the file
// outputs/verifier_results.json; the feature importances the table "feature_importance".
import type { KeyValues, RunPage, StoredMetric } from "./api";

export const BEST_TAG = "automl_best_child_run_id";
export const GUARDRAILS_FILE = "outputs/verifier_results.json";
export const IMPORTANCE_TABLE = "feature_importance";
const ENSEMBLES = new Set(["VotingEnsemble", "StackEnsemble"]);

export interface Iteration {
  runId: string;
  iteration: number | null;
  algorithm: string;
  preprocessor: string;
  /** the primary metric's latest value */
  score: number | null;
  seconds: number | null;
  status: string;
  /** the iterations an ensemble combines (empty for a single model) */
  ensembled: string[];
  ensemble: boolean;
  best: boolean;
}

function list(text: string | null | undefined): string[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/** the iterations, best score first (higher or lower, by the goal), unscored last */
export function leaderboard(page: RunPage, properties: KeyValues[], metric: string, maximize: boolean,
                            bestRunId: string | null | undefined): Iteration[] {
  const rows = page.runs.map((run, k): Iteration => {
    const own = properties[k] ?? {};
    const iteration = Number.parseInt(own["iteration"] ?? "", 10);
    const algorithm = own["run_algorithm"] ?? "";
    const score = page.metrics[run.run_id]?.[metric];
    return {
      runId: run.run_id,
      iteration: Number.isNaN(iteration) ? null : iteration,
      algorithm,
      preprocessor: own["run_preprocessor"] ?? "",
      score: typeof score === "number" && Number.isFinite(score) ? score : null,
      seconds: run.start_time != null && run.end_time != null ? run.end_time - run.start_time : null,
      status: run.status,
      ensembled: list(own["ensembled_iterations"]),
      ensemble: ENSEMBLES.has(algorithm) || own["ensembled_iterations"] !== undefined,
      best: run.run_id === bestRunId,
    };
  });
  return rows.sort((a, b) => {
    if (a.score === null || b.score === null) {
      return a.score === b.score ? (a.iteration ?? 0) - (b.iteration ?? 0) : a.score === null ? 1 : -1;
    }
    return maximize ? b.score - a.score : a.score - b.score;
  });
}

export interface Guardrail {
  type: string;
  result: string;
  description: string;
  parameters: Record<string, string>[];
}

/** the guardrails of verifier_results.json ({"faults": [{friendly_type, result, ...}]}) */
export function guardrails(text: string): Guardrail[] {
  const parsed = JSON.parse(text) as { faults?: unknown };
  if (!Array.isArray(parsed.faults)) return [];
  return parsed.faults.map((fault: Record<string, unknown>) => ({
    type: String(fault["friendly_type"] ?? ""),
    result: String(fault["result"] ?? ""),
    description: String(fault["friendly_result"] ?? ""),
    parameters: Array.isArray(fault["friendly_parameters"])
      ? (fault["friendly_parameters"] as Record<string, unknown>[]).map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])))
      : [],
  }));
}

export interface Importance {
  feature: string;
  importance: number;
}

/** the last feature_importance table logged ({"feature": [...], "importance": [...]}), largest first */
export function importances(rows: StoredMetric[]): Importance[] {
  const last = rows.filter((row) => row.kind === "table").at(-1);
  if (!last?.value_text) return [];
  const table = JSON.parse(last.value_text) as { feature?: unknown[]; importance?: unknown[] };
  const features = table.feature ?? [];
  const values = table.importance ?? [];
  return features
    .map((feature, k) => ({ feature: String(feature), importance: values[k] }))
    .filter((item): item is Importance => typeof item.importance === "number" && Number.isFinite(item.importance))
    .sort((a, b) => b.importance - a.importance);
}
