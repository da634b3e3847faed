import { describe, expect, it } from "vitest";
import { asNumberIfNumeric, expandObjects, linePath, parallelCoordinates } from "./parallelCoordinates";

describe("parallel coordinates", () => {
  it("reads numbers in text and leaves other text as categories", () => {
    expect(asNumberIfNumeric("0.1")).toBe(0.1);
    expect(asNumberIfNumeric(" 3 ")).toBe(3);
    expect(asNumberIfNumeric("adam")).toBe("adam");
    expect(asNumberIfNumeric("")).toBe("");
    expect(asNumberIfNumeric(undefined)).toBeUndefined();
  });

  it("makes an axis per column with a value and a line per run", () => {
    const { axes, lines } = parallelCoordinates(["a", "b", "c"], [
      { key: "property:lr", values: ["0.1", "0.3", "0.2"] },
      { key: "property:opt", values: ["sgd", "adam", undefined] },
      { key: "tag:empty", values: [undefined, undefined, undefined] },
      { key: "loss", values: [1, 3, null] },
    ]);
    expect(axes.map((axis) => [axis.key, axis.scale.kind])).toEqual([
      ["property:lr", "number"], ["property:opt", "category"], ["loss", "number"]]);
    expect(lines[0]!.positions[0]).toBeCloseTo(0);
    expect(lines[1]!.positions[0]).toBeCloseTo(1);
    expect(lines[2]!.positions[0]).toBeCloseTo(0.5);
    expect(lines.map((line) => line.positions[1])).toEqual([1, 0, undefined]);
    expect(lines.map((line) => line.positions[2])).toEqual([0, 1, undefined]);
  });

  it("makes a column per key of JSON objects, keeping the keys whose values differ", () => {
    expect(expandObjects([
      { key: "property:hyperparameters", values: ['{"--lr": 0.1, "--opt": "adam", "n": {"a": 1}}', '{"--lr": 0.2, "--opt": "adam"}', '{"--opt": "adam"}'] },
      { key: "property:note", values: ["{not json", "{}", "x"] },
      { key: "acc", values: [0.9, 0.8, 0.7] },
    ])).toEqual([
      { key: "property:hyperparameters.--lr", values: [0.1, 0.2, undefined] },
      { key: "property:hyperparameters.n", values: ['{"a":1}', undefined, undefined] },  // (--opt is the same)
      { key: "property:note", values: ["{not json", "{}", "x"] },
      { key: "acc", values: [0.9, 0.8, 0.7] },
    ]);
  });

  it("draws a path broken where a value is missing", () => {
    expect(linePath([0, undefined, 1, 0.5], (k) => k * 10, (at) => 100 - at * 100)).toBe("M0.0,100.0M20.0,0.0L30.0,50.0");
  });
});
