// An axis over values of one kind: numbers on a linear scale from their lowest to their
// highest, anything else as categories spaced evenly in sorted order. Each value maps to 0..1
// (0 the bottom or the left); a missing value has no position.
import { formatNumber } from "./format";

export type AxisValue = string | number | boolean | null | undefined;

export interface AxisScale {
  kind: "number" | "category";
  /** 0..1, or undefined for a missing value */
  position: (value: AxisValue) => number | undefined;
  /** the values to label the axis with, and where they sit */
  ticks: { label: string; at: number }[];
}

const present = (value: AxisValue): value is string | number | boolean => value !== null && value !== undefined;

export function axisScale(values: AxisValue[], tickCount = 5): AxisScale {
  const given = values.filter(present);
  if (given.length > 0 && given.every((value) => typeof value === "number" && Number.isFinite(value))) {
    const numbers = given as number[];
    const low = Math.min(...numbers);
    const high = Math.max(...numbers);
    const span = high - low;
    const position = (value: AxisValue) =>
      typeof value === "number" && Number.isFinite(value) ? (span === 0 ? 0.5 : (value - low) / span) : undefined;
    const ticks = span === 0
      ? [{ label: formatNumber(low), at: 0.5 }]
      : Array.from({ length: tickCount }, (_, k) => {
        const value = low + (span * k) / (tickCount - 1);
        return { label: formatNumber(value), at: k / (tickCount - 1) };
      });
    return { kind: "number", position, ticks };
  }
  const categories = [...new Set(given.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const at = (k: number) => (categories.length === 1 ? 0.5 : k / (categories.length - 1));
  const place = new Map(categories.map((category, k) => [category, at(k)]));
  return {
    kind: "category",
    position: (value) => (present(value) ? place.get(String(value)) : undefined),
    ticks: categories.map((label, k) => ({ label, at: at(k) })),
  };
}
