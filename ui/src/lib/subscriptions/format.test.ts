import { describe, expect, it } from "vitest";
import { formatMoney } from "../money";
import { priceOf } from "./format";

const terms = (overrides: Partial<Parameters<typeof priceOf>[0]> = {}) => ({
  amount_minor: 2_900 as number | null,
  currency: "USD" as string | null,
  currency_exponent: 2 as number | null,
  interval: "month" as string | null,
  interval_count: 1 as number | null,
  ...overrides,
});

describe("a subscription's price", () => {
  it("reads per interval, with the count when it is more than one", () => {
    expect(priceOf(terms())).toBe(`${formatMoney(2_900, "USD", 2)} / month`);
    expect(priceOf(terms({ interval: "week", interval_count: 2 }))).toBe(`${formatMoney(2_900, "USD", 2)} every 2 weeks`);
    expect(priceOf(terms({ amount_minor: 3_000, currency: "JPY", currency_exponent: 0 }))).toBe(
      `${formatMoney(3_000, "JPY", 0)} / month`,
    );
  });

  it("says how often when the plan has no fixed amount, and the amount when there is no interval", () => {
    const relative = { amount_minor: null, currency: null, currency_exponent: null };
    expect(priceOf(terms({ ...relative, interval_count: 3 }))).toBe("every 3 months");
    expect(priceOf(terms({ ...relative }))).toBe("every month");
    expect(priceOf(terms({ interval: null, interval_count: null }))).toBe(formatMoney(2_900, "USD", 2));
    expect(priceOf(terms({ ...relative, interval: null, interval_count: null }))).toBe("—");
  });
});
