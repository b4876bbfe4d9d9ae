import { afterEach, describe, expect, it } from "vitest";
import { allPayments } from "../api";
import { EMPTY_FORM, isFiltered, localDayStart, normaliseAmount, toFilter } from "./filters";

const originalTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = originalTz ?? "UTC";
});

describe("filter form", () => {
  it("turns a local day into the RFC 3339 time it starts at", () => {
    process.env.TZ = "Europe/Berlin";
    expect(localDayStart("2024-05-01")).toBe("2024-04-30T22:00:00Z");
    expect(localDayStart("2024-12-31", 1)).toBe("2024-12-31T23:00:00Z");
    // Clocks go forward on 31 March: that day starts at 23:00 UTC, the next one at 22:00 UTC.
    expect(localDayStart("2024-03-31")).toBe("2024-03-30T23:00:00Z");
    expect(localDayStart("2024-03-31", 1)).toBe("2024-03-31T22:00:00Z");
    expect(localDayStart("2024-02-31")).toBeNull();
    expect(localDayStart("31/05/2024")).toBeNull();
  });

  it("reads amounts as the Rust side wants them, or refuses them", () => {
    expect(normaliseAmount(" 10,50 ")).toBe("10.50");
    expect(normaliseAmount("7")).toBe("7");
    expect(normaliseAmount(".5")).toBe("0.5");
    expect(normaliseAmount("1e3")).toBeNull();
    expect(normaliseAmount("-5")).toBeNull();
    expect(normaliseAmount("1.2.3")).toBeNull();
    expect(normaliseAmount("ten")).toBeNull();
  });

  it("leaves out what it cannot apply and says why", () => {
    process.env.TZ = "UTC";
    const result = toFilter({ ...EMPTY_FORM, min: "50", max: "20", search: "  acme  ", to: "2024-05-31" });
    expect(result.filter).toEqual({ ...allPayments(), min_amount: "50", search: "acme", to: "2024-06-01T00:00:00Z" });
    expect(result.errors).toEqual({ min: null, max: "The maximum is below the minimum; it is not applied.", dates: null });
    expect(toFilter({ ...EMPTY_FORM }).filter).toEqual(allPayments());
    expect(isFiltered(EMPTY_FORM)).toBe(false);
    expect(isFiltered({ ...EMPTY_FORM, currency: "EUR" })).toBe(true);
  });
});
