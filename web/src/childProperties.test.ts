import { describe, expect, it } from "vitest";
import type { RunSummary } from "./api";
import { isFinal } from "./childProperties";

const child = (status: string) => ({ run_id: "t", status }) as RunSummary;

describe("childProperties", () => {
  it("keeps an ended child's properties, a Canceled one's once its stop reason is written", () => {
    expect(isFinal(child("Completed"), {})).toBe(true);
    expect(isFinal(child("Failed"), {})).toBe(true);
    expect(isFinal(child("Running"), { hyperparameters: "{}" })).toBe(false);
    expect(isFinal(child("Canceled"), {})).toBe(false);
    expect(isFinal(child("Canceled"), { stopped_by: "BanditPolicy" })).toBe(true);
  });
});
