import { describe, expect, it } from "vitest";
import type { RunSummary, StoredMetric } from "./api";
import { bestTrial, hyperparameterNames, sortTrials, sweepDefinition, trialRows } from "./trials";

const child = (run_id: string, status = "Completed") => ({ run_id, status, display_name: null }) as RunSummary;
const metric = (run_id: string, value_num: number | null, kind = "scalar") =>
  ({ run_id, name: "acc", kind, value_num, value_text: null, logged_at: 0, step: null }) as StoredMetric;

describe("trials", () => {
  it("reads the primary metric and goal of a sweep's definition", () => {
    expect(sweepDefinition('{"primary_metric_name": "acc", "goal": "MAXIMIZE"}')).toEqual({ metric: "acc", maximize: true });
    expect(sweepDefinition('{"primary_metric_name": "loss", "goal": "MINIMIZE"}')).toEqual({ metric: "loss", maximize: false });
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
      [metric("a", 0.5), metric("a", 0.9), metric("a", 0.7), metric("b", 0.4), metric("b", null), metric("c", NaN)],
      { metric: "acc", maximize: true });
    expect(rows.map((r) => [r.index, r.score, r.stoppedBy])).toEqual([[0, 0.9, null], [1, 0.4, "BanditPolicy: at 3"], [null, null, null]]);
    expect(rows[0]!.values).toEqual({ "--lr": 0.1, "--opt": "adam" });
    expect(rows[2]!.values).toEqual({});
    expect(hyperparameterNames(rows)).toEqual(["--lr", "--opt"]);
    expect(bestTrial(rows, true)?.runId).toBe("a");
    expect(bestTrial(rows, false)?.runId).toBe("b");
    const lowest = trialRows([child("a")], [{}], [metric("a", 0.5), metric("a", 0.2)], { metric: "acc", maximize: false });
    expect(lowest[0]!.score).toBe(0.2);
  });

  it("sorts by score or a value, trials without one last either way", () => {
    const rows = trialRows([child("a"), child("b"), child("c")],
      [{ hyperparameters: '{"x": 2}' }, { hyperparameters: '{"x": 10}' }, {}],
      [metric("a", 0.3), metric("c", 0.9)], { metric: "acc", maximize: true });
    expect(sortTrials(rows, { key: "score", descending: true }).map((r) => r.runId)).toEqual(["c", "a", "b"]);
    expect(sortTrials(rows, { key: "score", descending: false }).map((r) => r.runId)).toEqual(["a", "c", "b"]);
    expect(sortTrials(rows, { key: "value:x", descending: true }).map((r) => r.runId)).toEqual(["b", "a", "c"]);
  });
});
