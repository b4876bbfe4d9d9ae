import { describe, expect, it } from "vitest";
import { customRangeProblem, formatPeriod, isDay, rangeOf } from "./period";

describe("dashboard periods", () => {
  const may15 = new Date(2024, 4, 15, 12, 0);

  it("names calendar months and years around the user's today, both ends included", () => {
    expect(rangeOf("this_month", may15)).toEqual({ from: "2024-05-01", to: "2024-05-31" });
    expect(rangeOf("last_month", may15)).toEqual({ from: "2024-04-01", to: "2024-04-30" });
    expect(rangeOf("this_year", may15)).toEqual({ from: "2024-01-01", to: "2024-12-31" });
    expect(rangeOf("last_year", may15)).toEqual({ from: "2023-01-01", to: "2023-12-31" });
  });

  it("crosses year ends and knows February", () => {
    const jan10 = new Date(2024, 0, 10);
    expect(rangeOf("last_month", jan10)).toEqual({ from: "2023-12-01", to: "2023-12-31" });
    expect(rangeOf("this_month", new Date(2024, 1, 3))).toEqual({ from: "2024-02-01", to: "2024-02-29" });
    expect(rangeOf("this_month", new Date(2023, 1, 3))).toEqual({ from: "2023-02-01", to: "2023-02-28" });
    // Late on the last evening of a month is still that month where the user is.
    expect(rangeOf("this_month", new Date(2024, 4, 31, 23, 59))).toEqual({ from: "2024-05-01", to: "2024-05-31" });
  });

  it("checks custom days", () => {
    expect(isDay("2024-02-29")).toBe(true);
    expect(isDay("2023-02-29")).toBe(false);
    expect(isDay("2024-5-1")).toBe(false);
    expect(customRangeProblem({ from: "2024-05-01", to: "2024-05-01" })).toBeNull();
    expect(customRangeProblem({ from: "2024-05-02", to: "2024-05-01" })).toContain("must not be after");
    expect(customRangeProblem({ from: "", to: "2024-05-01" })).toBe("Enter both days.");
  });

  it("labels a series period by its bucket, in UTC", () => {
    expect(formatPeriod("2024-05-01", "month", "en-GB")).toBe("May 2024");
    expect(formatPeriod("2024-05-09", "day", "en-GB")).toBe("9 May");
  });
});
