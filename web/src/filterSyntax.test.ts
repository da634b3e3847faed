import { describe, expect, it } from "vitest";
import { parseFilter } from "./filterSyntax";

describe("the filter box", () => {
  it("reads metric comparisons, tags and properties", () => {
    expect(parseFilter("loss < 0.5, accuracy >= 0.9, tag:team = vision, tag:reviewed, property:seed=42")).toEqual({
      metrics: [{ name: "loss", op: "<", value: 0.5 }, { name: "accuracy", op: ">=", value: 0.9 }],
      tags: { team: "vision", reviewed: null },
      properties: { seed: "42" },
    });
    expect(parseFilter("  ")).toEqual({ metrics: [], tags: {}, properties: {} });
    expect(parseFilter("property:range = a<=b")).toEqual({ metrics: [], tags: {}, properties: { range: "a<=b" } });
    expect(parseFilter("val loss != -1e-3")).toEqual({
      metrics: [{ name: "val loss", op: "!=", value: -0.001 }], tags: {}, properties: {},
    });
  });

  it("says which condition it cannot read", () => {
    expect(parseFilter("loss < low")).toEqual({ error: "loss < low: low is not a number" });
    expect(parseFilter("loss")).toEqual({
      error: "loss: write metric < number, tag:key = value or property:key = value",
    });
    expect(parseFilter("tag:team > a")).toEqual({ error: "tag:team > a: a tag is compared with = only" });
    expect(parseFilter("property:seed =")).toEqual({ error: "property:seed =: no value after =" });
    expect(parseFilter("< 3")).toEqual({
      error: "< 3: write metric < number, tag:key = value or property:key = value",
    });
  });
});
