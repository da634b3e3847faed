import { describe, expect, it } from "vitest";
import { axisScale } from "./axisScale";

describe("axisScale", () => {
  it("places numbers linearly between their lowest and highest", () => {
    const scale = axisScale([2, 4, null, 10]);
    expect(scale.kind).toBe("number");
    expect([2, 4, 10].map(scale.position)).toEqual([0, 0.25, 1]);
    expect(scale.position(null)).toBeUndefined();
    expect(scale.ticks.map((tick) => tick.label)).toEqual(["2", "4", "6", "8", "10"]);
  });

  it("puts a single number in the middle", () => {
    const scale = axisScale([3, 3]);
    expect(scale.position(3)).toBe(0.5);
    expect(scale.ticks).toEqual([{ label: "3", at: 0.5 }]);
  });

  it("spaces categories evenly in sorted order when any value is not a number", () => {
    const scale = axisScale(["b", "a", 10, "c", undefined]);
    expect(scale.kind).toBe("category");
    expect(scale.ticks.map((tick) => tick.label)).toEqual(["10", "a", "b", "c"]);
    expect(scale.position("a")).toBeCloseTo(1 / 3);
    expect(scale.position(10)).toBe(0);
    expect(scale.position(undefined)).toBeUndefined();
    expect(axisScale([true]).position(true)).toBe(0.5);
  });
});
