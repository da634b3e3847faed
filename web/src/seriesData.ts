// From the server's series (POST /metrics/series) to a chart's data, and from a zoomed x
// range back to the points to ask for. The x axis is the step when every point has one and
// the steps rise, else the point's number (i); uPlot wants one shared, sorted x array.
import uPlot from "uplot";
import type { Series } from "./api";

export type XAxis = "step" | "i";

export interface ChartData {
  x: XAxis;
  /** [x, one y array per series], the series joined on x (undefined where one lacks a point:
   *  the line goes on past it) */
  aligned: uPlot.AlignedData;
}

function rising(values: number[]): boolean {
  return values.every((value, k) => k === 0 || value >= values[k - 1]!);
}

function stepsOf(series: Series): number[] | undefined {
  if (series.step.some((step) => step === null)) return undefined;
  const steps = series.step as number[];
  return rising(steps) ? steps : undefined;
}

export function xValues(series: Series, x: XAxis): number[] {
  return x === "step" ? (series.step as number[]) : series.i;
}

export function chartData(series: Series[]): ChartData {
  const x: XAxis = series.length > 0 && series.every((s) => stepsOf(s) !== undefined) ? "step" : "i";
  const tables = series.map((s): uPlot.AlignedData => [xValues(s, x), s.value]);
  return { x, aligned: tables.length === 1 ? tables[0]! : uPlot.join(tables) };
}

/**
 * The points (start, end exclusive) that cover the x range [low, high] in every series: from
 * the last point at or before `low` to the first at or after `high`, so zooming between two
 * points of a downsampled series still asks for the rows between them.
 */
export function pointRange(series: Series[], x: XAxis, low: number, high: number): { start: number; end: number } | undefined {
  let start = Infinity;
  let end = -Infinity;
  for (const s of series) {
    const xs = xValues(s, x);
    if (xs.length === 0) continue;
    let from = 0;
    while (from + 1 < xs.length && xs[from + 1]! <= low) from++;
    let to = xs.length - 1;
    while (to - 1 >= 0 && xs[to - 1]! >= high) to--;
    start = Math.min(start, s.i[from]!);
    end = Math.max(end, s.i[to]! + 1);
  }
  return start < end ? { start, end } : undefined;
}
