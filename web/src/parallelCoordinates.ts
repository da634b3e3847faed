// Parallel coordinates of compared runs: one axis per property or tag that differs and per
// metric's latest value, one line per run through its values. Text that reads as a number
// ("0.1", a property's value) counts as one, so an axis of them is numeric.
import { axisScale, type AxisScale, type AxisValue } from "./axisScale";

export interface PcColumn {
  key: string;
  /** each run's value, in the runs' order */
  values: AxisValue[];
}

export interface PcAxis {
  key: string;
  scale: AxisScale;
  values: AxisValue[];
}

export interface PcLine {
  runId: string;
  /** per axis: 0..1 from the bottom, or undefined where the run has no value */
  positions: (number | undefined)[];
}

function jsonObject(value: AxisValue): Record<string, unknown> | undefined {
  if (typeof value !== "string" || !value.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

function scalar(value: unknown): AxisValue {
  if (value === null || value === undefined) return undefined;
  return typeof value === "object" ? JSON.stringify(value) : value as string | number | boolean;
}

/**
 * A column whose values are JSON objects (a trial's "hyperparameters" property) becomes a
 * column per key of them (`property:hyperparameters.--lr`), keeping those whose values differ:
 * each value a sweep tried is an axis of its own.
 */
export function expandObjects(columns: PcColumn[]): PcColumn[] {
  return columns.flatMap((column) => {
    const objects = column.values.map(jsonObject);
    if (!objects.some(Boolean) || column.values.some((value, k) => value != null && !objects[k])) return [column];
    const keys = [...new Set(objects.flatMap((object) => Object.keys(object ?? {})))];
    return keys
      .map((key) => ({ key: `${column.key}.${key}`, values: objects.map((object) => scalar(object?.[key])) }))
      .filter(({ values }) => values.some((value) => value !== values[0]));
  });
}

export function asNumberIfNumeric(value: AxisValue): AxisValue {
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "") return value;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : value;
}

/** the axes (columns with at least one value) and each run's line */
export function parallelCoordinates(runIds: string[], columns: PcColumn[]): { axes: PcAxis[]; lines: PcLine[] } {
  const axes = columns
    .map((column) => ({ key: column.key, values: column.values.map(asNumberIfNumeric) }))
    .filter((column) => column.values.some((value) => value !== null && value !== undefined))
    .map((column) => ({ ...column, scale: axisScale(column.values) }));
  const lines = runIds.map((runId, k) => ({
    runId,
    positions: axes.map((axis) => axis.scale.position(axis.values[k])),
  }));
  return { axes, lines };
}

/** an SVG path through a line's points, broken where a value is missing */
export function linePath(positions: (number | undefined)[], x: (axis: number) => number, y: (at: number) => number): string {
  let path = "";
  let drawing = false;
  positions.forEach((at, k) => {
    if (at === undefined) {
      drawing = false;
      return;
    }
    path += `${drawing ? "L" : "M"}${x(k).toFixed(1)},${y(at).toFixed(1)}`;
    drawing = true;
  });
  return path;
}
