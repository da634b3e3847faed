// A list, rows or a table a run logged (run.log_list, log_row, log_table), as one table to
// show: the last list or table logged under the name, or every row in the order logged.
import type { StoredMetric } from "./api";

export interface Grid {
  columns: string[];
  rows: unknown[][];
}

function parsed(row: StoredMetric | undefined): unknown {
  return row?.value_text == null ? undefined : JSON.parse(row.value_text);
}

export function gridOf(kind: string, rows: StoredMetric[]): Grid {
  if (kind === "row") {
    const records = rows.map((row) => (parsed(row) ?? {}) as Record<string, unknown>);
    const columns = [...new Set(records.flatMap((record) => Object.keys(record)))];
    return { columns, rows: records.map((record) => columns.map((column) => record[column])) };
  }
  const last = parsed(rows[rows.length - 1]);
  if (kind === "table" && last && typeof last === "object") {
    const table = last as Record<string, unknown[]>;
    const columns = Object.keys(table);
    const length = Math.max(0, ...columns.map((column) => table[column]?.length ?? 0));
    return { columns, rows: Array.from({ length }, (_, k) => columns.map((column) => table[column]?.[k])) };
  }
  return { columns: ["value"], rows: Array.isArray(last) ? last.map((value) => [value]) : [] };
}

/** the file an image metric stored (images/NAME.png among the run's files) */
export function imageFile(rows: StoredMetric[]): string | undefined {
  const last = parsed(rows[rows.length - 1]);
  return typeof last === "string" ? last : undefined;
}
