import { describe, expect, it } from "vitest";
import type { Asset, LineageRow } from "./api";
import { byName, versionFacts, versionLineage } from "./assets";

const asset = (name: string, version: number, spec: Record<string, unknown> = {}, extra: Partial<Asset> = {}): Asset => ({
  kind: "model", name, version, id: `${name}${version}`, hash: null, spec, state: "active", run_id: null,
  created_at: 0, updated_at: 0, ...extra,
});
const line = (run_id: string, role: "input" | "output", version = 1, label: string | null = null): LineageRow =>
  ({ run_id, role, kind: "model", name: "churn", version, label, at: 0 });

describe("assets", () => {
  it("groups versions under their name, newest first", () => {
    const names = byName([asset("b", 1), asset("a", 1), asset("a", 3), asset("a", 2)]);
    expect(names.map((n) => [n.name, n.versions.map((v) => v.version), n.latest.version]))
      .toEqual([["a", [3, 2, 1], 3], ["b", [1], 1]]);
  });

  it("reads a model's and a dataset's spec", () => {
    expect(versionFacts(asset("m", 1, { description: "d", tags: { stage: "dev", empty: null }, properties: { q: 2 },
                                        path: "model.pkl", files: ["outputs/model.pkl"], framework: "sklearn",
                                        experiment_name: "train" })))
      .toEqual({ description: "d", tags: { stage: "dev", empty: null }, properties: { q: "2" },
                 facts: [["Path", "model.pkl"], ["Files", "1"], ["Framework", "sklearn"], ["Experiment", "train"]],
                 files: [{ path: "outputs/model.pkl", size: null }], datasets: [] });
    const dataset = versionFacts(asset("d", 1, { type: "file", files: [{ path: "a.csv", size: 1000 }, { path: "b/c.csv", size: 24 }] },
                                       { kind: "dataset" }));
    expect(dataset.facts).toEqual([["Type", "file"], ["Files", "2 (1,024 bytes)"]]);
    expect(dataset.files).toEqual([{ path: "a.csv", size: 1000 }, { path: "b/c.csv", size: 24 }]);
    expect(versionFacts(asset("m", 1, { datasets: [{ scenario: "training", name: "raw", version: 2 }] })).datasets)
      .toEqual([{ scenario: "training", name: "raw", version: 2 }]);
    expect(dataset.description).toBeNull();
  });

  it("finds the runs that produced a version and those that read it", () => {
    const rows = [line("r1", "output"), line("r2", "input", 1, "raw"), line("r2", "input", 1, "again"),
                  line("r3", "input", 2), line("r4", "input")];
    expect(versionLineage(asset("churn", 1, {}, { run_id: "r0" }), rows)).toEqual({
      producedBy: ["r1", "r0"],
      readBy: [{ runId: "r2", label: "raw" }, { runId: "r4", label: null }],
    });
    expect(versionLineage(asset("churn", 1, {}, { run_id: "r1" }), rows).producedBy).toEqual(["r1"]);
  });
});
