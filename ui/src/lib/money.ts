// Formatting of integer minor units. The exponent always comes from the Rust side with the
// amount; it is never derived from the currency here, and the digits are never produced by
// floating-point division.
import { displayLocale } from "./locale";

/** The exact decimal string of `amountMinor / 10^exponent`, e.g. (-1500, 3) → "-1.500". */
export function minorToDecimal(amountMinor: number | bigint, exponent: number): string {
  const value = typeof amountMinor === "bigint" ? amountMinor : BigInt(Math.trunc(amountMinor));
  const negative = value < 0n;
  let digits = (negative ? -value : value).toString();
  const places = Math.max(0, Math.trunc(exponent));
  if (places > 0) {
    digits = digits.padStart(places + 1, "0");
    digits = `${digits.slice(0, -places)}.${digits.slice(-places)}`;
  }
  return negative ? `-${digits}` : digits;
}

let exactStrings: boolean | undefined;

/** Whether `Intl.NumberFormat#format` takes decimal strings exactly (ES2023 / NumberFormat v3). */
function formatsStringsExactly(): boolean {
  if (exactStrings === undefined) {
    try {
      const probe = "12345678901234567891";
      exactStrings =
        new Intl.NumberFormat("en-US", { useGrouping: false }).format(
          probe as Intl.StringNumericLiteral,
        ) === probe;
    } catch {
      exactStrings = false;
    }
  }
  return exactStrings;
}

function asFormatInput(decimal: string): number | Intl.StringNumericLiteral {
  // Number() of the exact decimal string is exact enough for display where strings are not supported.
  return formatsStringsExactly() ? (decimal as Intl.StringNumericLiteral) : Number(decimal);
}

/**
 * Formats an amount in integer minor units with the given exponent for a locale, e.g.
 * `formatMoney(1234, "EUR", 2, "en-US")` → "€12.34". Without a locale, the user's display locale.
 */
export function formatMoney(
  amountMinor: number,
  currency: string,
  exponent: number,
  locale?: string,
): string {
  const decimal = minorToDecimal(amountMinor, exponent);
  try {
    return new Intl.NumberFormat(locale ?? displayLocale(), {
      style: "currency",
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    }).format(asFormatInput(decimal));
  } catch {
    // Unknown currency code or an exponent Intl cannot show: the exact decimal and the code.
    return `${decimal} ${currency}`;
  }
}

/**
 * Reads what a person typed ("12.34", "12,34", "1200") as integer minor units with the given
 * exponent (which comes from the Rust side). `null` when it is not a non-negative amount with at
 * most `exponent` decimals. Digits only: no floating point.
 */
export function decimalToMinor(text: string, exponent: number): number | null {
  const places = Math.max(0, Math.trunc(exponent));
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
  if (!match) return null;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (fraction.length > places) return null;
  const digits = `${whole}${fraction.padEnd(places, "0")}`.replace(/^0+(?=\d)/, "");
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : null;
}
