import { describe, expect, it } from "vitest";
import { differences } from "./compare";

describe("differences", () => {
  it("keeps the keys whose values differ, a missing key counting as a difference", () => {
    expect(differences([
      { framework: "torch", lr: "0.1", seed: "1", note: null },
      { framework: "torch", lr: "0.2", note: null },
    ])).toEqual([
      { key: "lr", values: ["0.1", "0.2"] },
      { key: "seed", values: ["1", undefined] },
    ]);
  });

  it("finds nothing among runs that agree, or a single run", () => {
    expect(differences([{ a: "1" }, { a: "1" }])).toEqual([]);
    expect(differences([{ a: "1" }])).toEqual([]);
  });
});
