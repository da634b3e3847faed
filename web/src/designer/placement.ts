// Where a module added without the mouse goes, and what its node is called: the first free
// cell of a grid, read down each column and then across, and the module's name with the
// first number that no node has yet (a node's id is its step's name in the YAML).

export const CELL = { width: 240, height: 120 };
const ROWS = 6;

export function freeSpot(taken: { x: number; y: number }[]): { x: number; y: number } {
  for (let cell = 0; ; cell++) {
    const spot = { x: Math.floor(cell / ROWS) * CELL.width, y: (cell % ROWS) * CELL.height };
    const clear = taken.every((place) =>
      Math.abs(place.x - spot.x) >= CELL.width * 0.75 || Math.abs(place.y - spot.y) >= CELL.height * 0.75);
    if (clear) return spot;
  }
}

export function newNodeId(module: string, ids: Iterable<string>): string {
  const used = new Set(ids);
  if (!used.has(module)) return module;
  for (let n = 2; ; n++) {
    if (!used.has(`${module}_${n}`)) return `${module}_${n}`;
  }
}
