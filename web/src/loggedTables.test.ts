import { describe, expect, it } from "vitest";
import type { StoredMetric } from "./api";
import { gridOf, imageFile } from "./loggedTables";

const stored = (kind: string, value: unknown): StoredMetric => ({
  run_id: "r", name: "m", kind, value_num: null, value_text: JSON.stringify(value), logged_at: 0, step: null,
});

describe("logged tables", () => {
  it("shows rows in the order logged, with every column any row had", () => {
    expect(gridOf("row", [stored("row", { epoch: 1, loss: 0.5 }), stored("row", { epoch: 2, acc: 0.9 })])).toEqual({
      columns: ["epoch", "loss", "acc"], rows: [[1, 0.5, undefined], [2, undefined, 0.9]],
    });
  });

  it("shows the last table or list logged", () => {
    expect(gridOf("table", [stored("table", { x: [0] }), stored("table", { x: [1, 2], y: [3] })])).toEqual({
      columns: ["x", "y"], rows: [[1, 3], [2, undefined]],
    });
    expect(gridOf("list", [stored("list", ["a", 2])])).toEqual({ columns: ["value"], rows: [["a"], [2]] });
  });

  it("finds the file of an image", () => {
    expect(imageFile([stored("image", "images/cm.png")])).toBe("images/cm.png");
    expect(imageFile([])).toBeUndefined();
  });
});
