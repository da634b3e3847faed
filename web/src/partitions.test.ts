import { describe, expect, it } from "vitest";
import { clampOffset, firstLine, keepsPartitionTable, modelOf, pageLabel, partitionLabel } from "./partitions";

describe("partitions", () => {
  it("knows the runs that keep a partition table by their properties", () => {
    expect(keepsPartitionTable({ "runyard.parallel.unfinished": "1" })).toBe(true);
    expect(keepsPartitionTable({ "azureml.reusedrunid": "r1" })).toBe(true);
    expect(keepsPartitionTable({ "azureml.nodeid": "train" })).toBe(false);
    expect(keepsPartitionTable(undefined)).toBe(false);
  });

  it("reads a row's partition keys, error and models", () => {
    expect(partitionLabel({ store: "1", region: "west" })).toBe("store=1, region=west");
    expect(partitionLabel(null)).toBe("");
    expect(firstLine("ValueError: no sales\nmore")).toBe("ValueError: no sales");
    expect(firstLine(null)).toBe("");
    expect(modelOf("sales-1:3")).toEqual({ name: "sales-1", version: 3 });
    expect(modelOf("a:b:12")).toEqual({ name: "a:b", version: 12 });
    expect(modelOf("plain")).toEqual({ name: "plain" });
    expect(modelOf("x:latest")).toEqual({ name: "x:latest" });
  });

  it("keeps a page's offset on a page that exists", () => {
    expect(clampOffset(0, 10_000)).toBe(0);
    expect(clampOffset(250, 10_000)).toBe(200);
    expect(clampOffset(9_950, 10_000)).toBe(9_900);
    expect(clampOffset(500, 120)).toBe(100);
    expect(clampOffset(300, 0)).toBe(0);
    expect(clampOffset(-100, 50)).toBe(0);
  });

  it("says which rows a page shows", () => {
    expect(pageLabel(100, 100, 10_000)).toBe("101–200 of 10,000");
    expect(pageLabel(0, 3, 3)).toBe("1–3 of 3");
    expect(pageLabel(0, 0, 0)).toBe("0 of 0");
  });
});
