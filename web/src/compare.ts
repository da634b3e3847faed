// What differs between runs: the keys (properties, tags) whose values are not the same in
// every run compared, a run without the key counting as a value of its own.
import type { KeyValues } from "./api";

/** the most runs one comparison shows (the server's series take up to 100 runs) */
export const MAX_COMPARED = 100;

export interface Difference {
  key: string;
  /** each run's value, in the runs' order; undefined where a run does not have the key */
  values: (string | null | undefined)[];
}

export function differences(perRun: KeyValues[]): Difference[] {
  const keys = [...new Set(perRun.flatMap((values) => Object.keys(values)))].sort();
  return keys
    .map((key) => ({ key, values: perRun.map((values) => (key in values ? values[key] : undefined)) }))
    .filter(({ values }) => values.some((value) => value !== values[0]));
}
