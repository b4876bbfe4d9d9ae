// The currencies a payment request offers, and a light email check. How many decimals a
// currency has is Rust's to say: the dialog sends the amount as typed and Rust reads it with
// the currency's exponent (crates/core/src/money.rs), refusing extra decimals.

import { displayLocale } from "../locale";

/** What the currency picker offers, most used first; the business's own currencies are added. */
export const COMMON_CURRENCIES: readonly string[] = [
  "EUR",
  "USD",
  "GBP",
  "CAD",
  "AUD",
  "NZD",
  "CHF",
  "SEK",
  "NOK",
  "DKK",
  "PLN",
  "CZK",
  "HUF",
  "RON",
  "JPY",
  "SGD",
  "HKD",
  "MXN",
  "BRL",
  "INR",
  "ZAR",
  "AED",
  "KWD",
  "BHD",
];

/** "EUR — Euro" where the runtime knows the name, else the code. */
export function currencyLabel(code: string, locale?: string): string {
  try {
    const name = new Intl.DisplayNames([locale ?? displayLocale()], { type: "currency" }).of(code);
    return name && name !== code ? `${code} — ${name}` : code;
  } catch {
    return code;
  }
}

/** A rough check of an email address: something@something.tld, no spaces. */
export function isEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(text);
}
