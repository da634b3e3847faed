// A HyperDrive sweep's trials (its child runs) as a table and a chart take them: each trial's
// values (its "hyperparameters" property, JSON), its score (the best value of the primary
// metric it logged, as HyperDriveRun ranks them), and why a policy stopped it ("stopped_by").
// The values logged come as the server's series, whose buckets keep their lowest and highest
// values, so a few points per trial still hold its best.
import type { KeyValues, RunSummary, Series } from "./api";

export type HyperValue = string | number | boolean | null;

export interface TrialRow {
  runId: string;
  name: string;
  /** its number in the sweep (hyperdrive.trial_index); null when the property is missing */
  index: number | null;
  status: string;
  values: Record<string, HyperValue>;
  /** the best value of the primary metric it logged; null before it logs one */
  score: number | null;
  stoppedBy: string | null;
}

export interface SweepDefinition {
  metric: string;
  maximize: boolean;
  /** how it picks values ("random", "grid", "bayesian"; none for AutoML) */
  sampling?: string;
  /** its early termination policy ("bandit", "median", "truncation"), if it has one */
  policy?: string;
  maxTrials?: number;
}

/** a policy's kind as people call it */
export const POLICY_NAMES: Record<string, string> = {
  bandit: "Bandit policy", median: "median stopping", truncation: "truncation selection",
};

/** what a hyperdrive (or AutoML) run's definition says of its search, if it has a primary metric */
export function sweepDefinition(definition: string | null): SweepDefinition | undefined {
  if (!definition) return undefined;
  try {
    const parsed = JSON.parse(definition) as {
      primary_metric_name?: unknown; goal?: unknown; sampling?: { kind?: unknown } | null;
      policy?: { kind?: unknown } | null; max_total_runs?: unknown;
    };
    if (typeof parsed.primary_metric_name !== "string") return undefined;
    const sweep: SweepDefinition = { metric: parsed.primary_metric_name, maximize: parsed.goal === "MAXIMIZE" };
    if (typeof parsed.sampling?.kind === "string") sweep.sampling = parsed.sampling.kind;
    if (typeof parsed.policy?.kind === "string" && parsed.policy.kind !== "none") sweep.policy = parsed.policy.kind;
    if (typeof parsed.max_total_runs === "number") sweep.maxTrials = parsed.max_total_runs;
    return sweep;
  } catch {
    return undefined;
  }
}

function parsedValues(text: string | null | undefined): Record<string, HyperValue> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed as Record<string, HyperValue> : {};
  } catch {
    return {};
  }
}

/** a pipeline trial's score is over what its steps logged: each step's series counted as its trial's */
export function seriesOfTrials(series: Series[], trialOf: Record<string, string>): Series[] {
  return series.map((one) => ({ ...one, run_id: trialOf[one.run_id] ?? one.run_id }));
}

export function trialRows(children: RunSummary[], properties: KeyValues[], series: Series[],
                          sweep: SweepDefinition): TrialRow[] {
  const logged = new Map<string, number[]>();
  for (const one of series) {
    const values = one.value.filter((value) => Number.isFinite(value));
    logged.set(one.run_id, [...(logged.get(one.run_id) ?? []), ...values]);
  }
  const best = sweep.maximize ? Math.max : Math.min;
  return children.map((child, k) => {
    const own = properties[k] ?? {};
    const values = logged.get(child.run_id);
    const index = Number.parseInt(own["hyperdrive.trial_index"] ?? "", 10);
    return {
      runId: child.run_id,
      name: child.display_name ?? child.run_id,
      index: Number.isNaN(index) ? null : index,
      status: child.status,
      values: parsedValues(own["hyperparameters"]),
      score: values && values.length > 0 ? best(...values) : null,
      stoppedBy: own["stopped_by"] ?? null,
    };
  });
}

/** every hyperparameter any trial has, in the order first seen */
export function hyperparameterNames(trials: TrialRow[]): string[] {
  return [...new Set(trials.flatMap((trial) => Object.keys(trial.values)))];
}

/** the trial with the best score (ties: the first), or undefined when none has one */
export function bestTrial(trials: TrialRow[], maximize: boolean): TrialRow | undefined {
  let found: TrialRow | undefined;
  for (const trial of trials) {
    if (trial.score === null) continue;
    if (!found || (maximize ? trial.score > found.score! : trial.score < found.score!)) found = trial;
  }
  return found;
}

export type TrialSort = { key: string; descending: boolean };

function compared(a: HyperValue | undefined, b: HyperValue | undefined): number {
  const missingA = a === undefined || a === null;
  const missingB = b === undefined || b === null;
  if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1; // missing last
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** sorted by "index", "status", "score" or "value:<hyperparameter>"; trials without the value last */
export function sortTrials(trials: TrialRow[], { key, descending }: TrialSort): TrialRow[] {
  const valueOf = (trial: TrialRow): HyperValue | undefined =>
    key === "index" ? trial.index : key === "status" ? trial.status : key === "score" ? trial.score
      : key.startsWith("value:") ? trial.values[key.slice(6)] : undefined;
  return [...trials].sort((a, b) => {
    const va = valueOf(a);
    const vb = valueOf(b);
    const order = compared(va, vb);
    const eitherMissing = va === undefined || va === null || vb === undefined || vb === null;
    return descending && !eitherMissing ? -order : order;
  });
}
