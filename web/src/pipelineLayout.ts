// Where each step of a pipeline goes on its graph: in columns by how many steps lie before it
// on its longest path from a first step (so every edge runs left to right), in the
// definition's order down each column.

export interface Placed {
  name: string;
  column: number;
  row: number;
}

export interface Edge {
  from: string;
  to: string;
}

export function layout(steps: { name: string; upstream: string[] }[]): { placed: Placed[]; edges: Edge[] } {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const columns = new Map<string, number>();
  const columnOf = (name: string, path: Set<string>): number => {
    const known = columns.get(name);
    if (known !== undefined) return known;
    const upstream = (byName.get(name)?.upstream ?? []).filter((up) => byName.has(up) && !path.has(up));
    const column = upstream.length === 0
      ? 0
      : 1 + Math.max(...upstream.map((up) => columnOf(up, new Set([...path, name]))));
    columns.set(name, column);
    return column;
  };
  const rows = new Map<number, number>();
  const placed = steps.map((step) => {
    const column = columnOf(step.name, new Set());
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    return { name: step.name, column, row };
  });
  const edges = steps.flatMap((step) =>
    step.upstream.filter((up) => byName.has(up)).map((up) => ({ from: up, to: step.name })));
  return { placed, edges };
}
