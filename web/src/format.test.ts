import { describe, expect, it } from "vitest";
import { formatCount, formatDuration, formatNumber } from "./format";

describe("format", () => {
  it("says a duration in the units that matter", () => {
    expect(formatDuration(100, 107.4)).toBe("7s");
    expect(formatDuration(100, 100 + 125)).toBe("2m 05s");
    expect(formatDuration(0, 3 * 3600 + 61)).toBe("3h 01m 01s");
    expect(formatDuration(null, 10)).toBe("");
    expect(formatDuration(100, null, 160)).toBe("1m 00s"); // still running: until now
  });

  it("keeps integers whole and other numbers to six significant digits", () => {
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(0.123456789)).toBe("0.123457");
    expect(formatNumber(1e-9)).toBe("1e-9");
    expect(formatNumber(null)).toBe("");
    expect(formatCount(100000)).toBe("100,000");
  });
});
