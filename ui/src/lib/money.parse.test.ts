import { describe, expect, it } from "vitest";
import { decimalToMinor } from "./money";

describe("decimalToMinor", () => {
  it("reads amounts exactly, in the exponent it is given", () => {
    expect(decimalToMinor("12.34", 2)).toBe(1234);
    expect(decimalToMinor("12,3", 2)).toBe(1230);
    expect(decimalToMinor(" 12 ", 2)).toBe(1200);
    expect(decimalToMinor("0.07", 2)).toBe(7);
    expect(decimalToMinor("1234", 0)).toBe(1234);
    expect(decimalToMinor("1.500", 3)).toBe(1500);
    // 0.1 + 0.2 style float errors cannot happen: digits only.
    expect(decimalToMinor("0.29", 2)).toBe(29);
  });

  it("refuses what is not an amount in that currency", () => {
    expect(decimalToMinor("12.345", 2)).toBeNull();
    expect(decimalToMinor("1.5", 0)).toBeNull();
    expect(decimalToMinor("-1", 2)).toBeNull();
    expect(decimalToMinor("abc", 2)).toBeNull();
    expect(decimalToMinor("", 2)).toBeNull();
    expect(decimalToMinor("99999999999999999999", 2)).toBeNull();
  });
});
