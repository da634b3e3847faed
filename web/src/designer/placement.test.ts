import { describe, expect, it } from "vitest";
import { CELL, freeSpot, newNodeId } from "./placement";

describe("placement", () => {
  it("puts a new node in the first free cell, down then across", () => {
    expect(freeSpot([])).toEqual({ x: 0, y: 0 });
    expect(freeSpot([{ x: 10, y: 5 }])).toEqual({ x: 0, y: CELL.height });
    const column = Array.from({ length: 6 }, (_, row) => ({ x: 0, y: row * CELL.height }));
    expect(freeSpot(column)).toEqual({ x: CELL.width, y: 0 });
  });

  it("names a node after its module, numbered when the name is taken", () => {
    expect(newNodeId("split_data", [])).toBe("split_data");
    expect(newNodeId("split_data", ["split_data", "split_data_2"])).toBe("split_data_3");
  });
});
