import { describe, expect, it } from "vitest";
import type { RunSummary, Series } from "./api";
import { bestTrial, hyperparameterNames, seriesOfTrials, sortTrials, sweepDefinition, trialRows } from "./trials";

const child = (run_id: string, status = "Completed") => ({ run_id, status, display_name: null }) as RunSummary;
const series = (run_id: string, ...value: number[]) =>
  ({ run_id, count: value.length, downsampled: false, i: [], value, step: [], logged_at: [] }) as Series;

describe("trials", () => {
  it("reads the primary metric and goal of a sweep's definition", () => {
    expect(sweepDefinition('{"primary_metric_name": "acc", "goal": "MAXIMIZE"}')).toEqual({ metric: "acc", maximize: true });
    expect(sweepDefinition('{"primary_metric_name": "loss", "goal": "MINIMIZE"}')).toEqual({ metric: "loss", maximize: false });
    expect(sweepDefinition(JSON.stringify({ primary_metric_name: "acc", goal: "MAXIMIZE", sampling: { kind: "grid" },
                                            policy: { kind: "bandit", slack_factor: 0.1 }, max_total_runs: 4 })))
      .toEqual({ metric: "acc", maximize: true, sampling: "grid", policy: "bandit", maxTrials: 4 });
    expect(sweepDefinition('{"primary_metric_name": "acc", "policy": null}')).toEqual({ metric: "acc", maximize: false });
    expect(sweepDefinition('{"primary_metric_name": "acc", "policy": {"kind": "none"}}')?.policy).toBeUndefined();
    expect(sweepDefinition('{"script": "x"}')).toBeUndefined();
    expect(sweepDefinition("not json")).toBeUndefined();
    expect(sweepDefinition(null)).toBeUndefined();
  });

  it("scores each trial by the best value it logged, and keeps its values and stop reason", () => {
    const rows = trialRows(
      [child("a"), child("b", "Canceled"), child("c", "Running")],
      [{ "hyperdrive.trial_index": "0", hyperparameters: '{"--lr": 0.1, "--opt": "adam"}' },
       { "hyperdrive.trial_index": "1", hyperparameters: '{"--lr": 0.2}', stopped_by: "BanditPolicy: at 3" },
       { hyperparameters: "broken" }],
      [series("a", 0.5, 0.9, 0.7), series("b", 0.4), series("c", NaN)],
      { metric: "acc", maximize: true });
    expect(rows.map((r) => [r.index, r.score, r.stoppedBy])).toEqual([[0, 0.9, null], [1, 0.4, "BanditPolicy: at 3"], [null, null, null]]);
    expect(rows[0]!.values).toEqual({ "--lr": 0.1, "--opt": "adam" });
    expect(rows[2]!.values).toEqual({});
    expect(hyperparameterNames(rows)).toEqual(["--lr", "--opt"]);
    expect(bestTrial(rows, true)?.runId).toBe("a");
    expect(bestTrial(rows, false)?.runId).toBe("b");
    const lowest = trialRows([child("a")], [{}], [series("a", 0.5, 0.2)], { metric: "acc", maximize: false });
    expect(lowest[0]!.score).toBe(0.2);
  });

  it("counts a pipeline trial's steps' values as its own", () => {
    const merged = seriesOfTrials([series("p", 0.1), series("step1", 0.4), series("step2", 0.7)], { step1: "p", step2: "p" });
    expect(trialRows([child("p")], [{}], merged, { metric: "acc", maximize: true })[0]!.score).toBe(0.7);
  });

  it("sorts by score or a value, trials without one last either way", () => {
    const rows = trialRows([child("a"), child("b"), child("c")],
      [{ hyperparameters: '{"x": 2}' }, { hyperparameters: '{"x": 10}' }, {}],
      [series("a", 0.3), series("c", 0.9)], { metric: "acc", maximize: true });
    expect(sortTrials(rows, { key: "score", descending: true }).map((r) => r.runId)).toEqual(["c", "a", "b"]);
    expect(sortTrials(rows, { key: "score", descending: false }).map((r) => r.runId)).toEqual(["a", "c", "b"]);
    expect(sortTrials(rows, { key: "value:x", descending: true }).map((r) => r.runId)).toEqual(["b", "a", "c"]);
  });
});
