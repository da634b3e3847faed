import { describe, expect, it } from "vitest";
import type { RunPage, RunSummary, StoredMetric } from "./api";
import { guardrails, importances, leaderboard } from "./automl";

const run = (run_id: string, start: number | null, end: number | null) =>
  ({ run_id, status: "Completed", start_time: start, end_time: end }) as RunSummary;

describe("automl", () => {
  it("ranks the iterations by the primary metric, marks the best and the ensembles", () => {
    const page: RunPage = {
      total: 4,
      runs: [run("a", 10, 12), run("b", 10, 15), run("c", 20, null), run("d", 30, 31)],
      metrics: { a: { accuracy: 0.8 }, b: { accuracy: 0.9 }, c: { accuracy: null }, d: { accuracy: 0.85 } },
      tags: {},
      properties: {},
    };
    const board = leaderboard(page, [
      { iteration: "0", run_algorithm: "LightGBM", run_preprocessor: "MaxAbsScaler" },
      { iteration: "1", run_algorithm: "LogisticRegression" },
      { iteration: "2", run_algorithm: "LightGBM" },
      { iteration: "3", run_algorithm: "VotingEnsemble", ensembled_iterations: '["1", "0"]' },
    ], "accuracy", true, "b");
    expect(board.map((i) => i.iteration)).toEqual([1, 3, 0, 2]);
    expect(board[0]).toMatchObject({ best: true, seconds: 5, ensemble: false });
    expect(board[1]).toMatchObject({ ensemble: true, ensembled: ["1", "0"], best: false });
    expect(board[2]!.preprocessor).toBe("MaxAbsScaler");
    expect(board[3]).toMatchObject({ score: null, seconds: null });
    expect(leaderboard(page, [{}, {}, {}, {}], "accuracy", false, null).map((i) => i.runId)).toEqual(["a", "d", "b", "c"]);
  });

  it("reads the guardrails of verifier_results.json", () => {
    const text = JSON.stringify({ faults: [
      { friendly_type: "Class balancing detection", result: "Passed", friendly_result: "balanced",
        friendly_parameters: [{ Class: "no", Rows: 64 }] },
    ] });
    expect(guardrails(text)).toEqual([
      { type: "Class balancing detection", result: "Passed", description: "balanced", parameters: [{ Class: "no", Rows: "64" }] },
    ]);
    expect(guardrails("{}")).toEqual([]);
  });

  it("reads the last feature importance table, largest first", () => {
    const row = (value: object) =>
      ({ run_id: "p", name: "feature_importance", kind: "table", value_num: null, value_text: JSON.stringify(value),
         logged_at: 0, step: null }) as StoredMetric;
    expect(importances([row({ feature: ["old"], importance: [1] }),
                        row({ feature: ["x2", "x1", "bad"], importance: [0.1, 0.4, null] })]))
      .toEqual([{ feature: "x1", importance: 0.4 }, { feature: "x2", importance: 0.1 }]);
    expect(importances([])).toEqual([]);
  });
});
