import { describe, expect, it } from "vitest";
import { formatMoney, minorToDecimal } from "./money";

const NBSP = "\u00a0";

describe("minorToDecimal", () => {
  it("places the point from the given exponent, padding with zeros", () => {
    expect(minorToDecimal(1234, 2)).toBe("12.34");
    expect(minorToDecimal(5, 2)).toBe("0.05");
    expect(minorToDecimal(1500, 3)).toBe("1.500");
    expect(minorToDecimal(1234, 0)).toBe("1234");
    expect(minorToDecimal(-5, 3)).toBe("-0.005");
    expect(minorToDecimal(0, 2)).toBe("0.00");
  });

  it("is exact where floating-point division is not", () => {
    // 0.1 + 0.2 style errors cannot happen: digits are never divided.
    expect(minorToDecimal(Number.MAX_SAFE_INTEGER, 2)).toBe("90071992547409.91");
    expect(minorToDecimal(9223372036854775807n, 2)).toBe("92233720368547758.07");
  });
});

describe("formatMoney", () => {
  it("formats zero-decimal JPY with the exponent it is given", () => {
    expect(formatMoney(1234, "JPY", 0, "en-US")).toBe("¥1,234");
  });

  it("formats two-decimal EUR", () => {
    expect(formatMoney(1234, "EUR", 2, "en-US")).toBe("€12.34");
  });

  it("formats three-decimal KWD with all three places", () => {
    expect(formatMoney(1500, "KWD", 3, "en-US")).toBe(`KWD${NBSP}1.500`);
  });

  it("formats negative amounts", () => {
    expect(formatMoney(-1234, "EUR", 2, "en-US")).toBe("-€12.34");
    expect(formatMoney(-7, "USD", 2, "en-US")).toBe("-$0.07");
    expect(formatMoney(-1500, "KWD", 3, "en-US")).toBe(`-KWD${NBSP}1.500`);
  });

  it("keeps a provider's exponent even where ISO 4217 says otherwise (Stripe's ISK)", () => {
    // ISO says ISK has no decimals; Stripe counts it in hundredths and says so with exponent 2.
    expect(formatMoney(12345, "ISK", 2, "en-US")).toBe(`ISK${NBSP}123.45`);
    expect(formatMoney(12300, "ISK", 2, "en-US")).toBe(`ISK${NBSP}123.00`);
  });

  it("never derives the exponent from the currency", () => {
    expect(formatMoney(1234, "JPY", 2, "en-US")).toBe("¥12.34");
    expect(formatMoney(1234, "EUR", 0, "en-US")).toBe("€1,234");
  });

  it("formats large amounts exactly", () => {
    expect(formatMoney(123456789012345, "USD", 2, "en-US")).toBe("$1,234,567,890,123.45");
    expect(formatMoney(Number.MAX_SAFE_INTEGER, "USD", 2, "en-US")).toBe(
      "$90,071,992,547,409.91",
    );
    expect(formatMoney(100000000000, "JPY", 0, "en-US")).toBe("¥100,000,000,000");
  });

  it("follows the locale", () => {
    expect(formatMoney(1234, "EUR", 2, "de-DE")).toBe(`12,34${NBSP}€`);
    expect(formatMoney(1234, "JPY", 0, "ja-JP")).toBe("￥1,234");
  });

  it("falls back to the exact decimal and the code for a currency Intl rejects", () => {
    expect(formatMoney(1234, "X1", 2, "en-US")).toBe("12.34 X1");
  });
});
