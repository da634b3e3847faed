import { describe, expect, it } from "vitest";
import type { Series } from "./api";
import { chartData, pointRange } from "./seriesData";

function series(i: number[], value: number[], step: (number | null)[], runId = "run_1"): Series {
  return { run_id: runId, count: i.length, downsampled: false, i, value, step, logged_at: i.map(() => 0) };
}

describe("chartData", () => {
  it("draws against the step when every point has one and they rise", () => {
    const data = chartData([series([0, 1, 2], [5, 4, 3], [10, 20, 30])]);
    expect(data.x).toBe("step");
    expect(data.aligned).toEqual([[10, 20, 30], [5, 4, 3]]);
  });

  it("draws against the point number when a step is missing or steps go back", () => {
    expect(chartData([series([0, 1], [5, 4], [10, null])]).x).toBe("i");
    expect(chartData([series([0, 1, 2], [5, 4, 3], [10, 30, 20])]).x).toBe("i");
  });

  it("joins the series of several runs on x, undefined where one has no point", () => {
    const data = chartData([series([0, 1], [1, 2], [0, 2], "a"), series([0, 1], [7, 8], [1, 2], "b")]);
    expect(data.aligned).toEqual([[0, 1, 2], [1, undefined, 2], [undefined, 7, 8]]);
  });
});

describe("pointRange", () => {
  // a downsampled series: points 0, 40, 41, 99 of a hundred, x = step = 10 * i
  const downsampled = series([0, 40, 41, 99], [1, 9, 0, 2], [0, 400, 410, 990]);

  it("covers the selection from the point at or before it to the one at or after it", () => {
    expect(pointRange([downsampled], "step", 100, 405)).toEqual({ start: 0, end: 42 });
    expect(pointRange([downsampled], "i", 40, 41)).toEqual({ start: 40, end: 42 });
  });

  it("asks for the rows between two points when the selection falls between them", () => {
    expect(pointRange([downsampled], "step", 500, 600)).toEqual({ start: 41, end: 100 });
  });

  it("takes every run's points into account, and nothing when there are none", () => {
    const other = series([5, 6], [0, 0], [50, 60], "b");
    expect(pointRange([downsampled, other], "i", 5, 6)).toEqual({ start: 0, end: 41 });
    expect(pointRange([series([], [], [])], "i", 0, 10)).toBeUndefined();
  });
});
