import { describe, expect, it } from "vitest";
import { layout } from "./pipelineLayout";

describe("pipeline layout", () => {
  it("puts each step one column after the furthest step it waits for", () => {
    const { placed, edges } = layout([
      { name: "prep", upstream: [] },
      { name: "features", upstream: ["prep"] },
      { name: "train", upstream: ["prep", "features"] },
      { name: "report", upstream: [] },
    ]);
    expect(placed).toEqual([
      { name: "prep", column: 0, row: 0 },
      { name: "features", column: 1, row: 0 },
      { name: "train", column: 2, row: 0 },
      { name: "report", column: 0, row: 1 },
    ]);
    expect(edges).toEqual([
      { from: "prep", to: "features" },
      { from: "prep", to: "train" },
      { from: "features", to: "train" },
    ]);
  });

  it("ignores upstream names it does not know and never loops", () => {
    const { placed } = layout([
      { name: "a", upstream: ["b", "ghost"] },
      { name: "b", upstream: ["a"] },
    ]);
    expect(placed.map((step) => step.name)).toEqual(["a", "b"]);
  });
});
