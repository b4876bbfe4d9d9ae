// The Payments screen's filter form and how it becomes a `PaymentFilter`. Pure functions, so
// the rules (what is sent, what is refused) are testable without a screen.
import { allPayments } from "../api";
import type { PaymentFilter } from "../bindings/PaymentFilter";

/** What the filter bar's fields hold; "" means "any". */
export interface FilterForm {
  /** Catalogue provider key (`stripe`). */
  provider: string;
  /** Connection id. */
  connection: string;
  status: string;
  currency: string;
  /** `YYYY-MM-DD` from a date input: the first day shown, in the user's time zone. */
  from: string;
  /** `YYYY-MM-DD`: the last day shown (included), in the user's time zone. */
  to: string;
  /** Decimal text in each payment's own currency, as typed. */
  min: string;
  max: string;
  search: string;
}

export const EMPTY_FORM: Readonly<FilterForm> = Object.freeze({
  provider: "",
  connection: "",
  status: "",
  currency: "",
  from: "",
  to: "",
  min: "",
  max: "",
  search: "",
});

/** Why a field of the form is not applied, per field. */
export interface FilterErrors {
  min: string | null;
  max: string | null;
  dates: string | null;
}

export interface FilterResult {
  filter: PaymentFilter;
  errors: FilterErrors;
}

/** The fields typed character by character: they are applied after a short pause. */
export const TYPED_FIELDS = ["search", "min", "max"] as const satisfies readonly (keyof FilterForm)[];

/** Payment statuses the Rust side sends (`PaymentView.status`). */
export const STATUSES = ["succeeded", "pending", "failed", "unknown"] as const;

/** Currencies offered before any payment is loaded; the loaded rows add their own. */
export const COMMON_CURRENCIES = [
  "USD",
  "EUR",
  "GBP",
  "CAD",
  "AUD",
  "NZD",
  "CHF",
  "JPY",
  "SEK",
  "NOK",
  "DKK",
  "PLN",
  "MXN",
  "BRL",
  "INR",
  "SGD",
  "HKD",
] as const;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const AMOUNT = /^(?:\d+(?:[.,]\d*)?|[.,]\d+)$/;

/**
 * The start of a local calendar day as an RFC 3339 UTC time ("2024-05-01" in Berlin →
 * "2024-04-30T22:00:00Z"); `days` moves to a later day. `null` for anything but a valid day.
 *
 * The table shows local times, so a day picked in the filter is the user's local day, not a
 * UTC one; `PaymentFilter.from`/`to` take RFC 3339 times for that. DST is handled by `Date`.
 */
export function localDayStart(day: string, days = 0): string | null {
  const match = DAY.exec(day);
  if (!match) return null;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const start = new Date(year, month - 1, date + days);
  // `Date` rolls 2024-02-31 over to March: such a "day" is not a day.
  const check = new Date(year, month - 1, date);
  if (Number.isNaN(start.getTime()) || check.getMonth() !== month - 1 || check.getDate() !== date) {
    return null;
  }
  return start.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An amount as the Rust side reads it (a dot decimal), or null when it is not an amount. */
export function normaliseAmount(text: string): string | null {
  const trimmed = text.trim();
  if (!AMOUNT.test(trimmed)) return null;
  const dotted = trimmed.replace(",", ".");
  return dotted.startsWith(".") ? `0${dotted}` : dotted;
}

function amountError(text: string): string {
  return `“${text.trim()}” is not an amount. Type a number such as 10.50; this limit is not applied.`;
}

/**
 * The filter to send for a form, and why any field is not applied. Days go out as local
 * midnights: `from` the start of its day, `to` the start of the day after the "to" day, since
 * `PaymentFilter.to` excludes its instant — so the "to" day is included for the user.
 */
export function toFilter(form: FilterForm): FilterResult {
  const filter = allPayments();
  const errors: FilterErrors = { min: null, max: null, dates: null };
  const value = (text: string) => (text.trim() === "" ? null : text.trim());

  filter.provider = value(form.provider);
  filter.connection = value(form.connection);
  filter.status = value(form.status);
  filter.currency = value(form.currency);
  filter.search = value(form.search);

  const from = form.from === "" ? null : localDayStart(form.from);
  const to = form.to === "" ? null : localDayStart(form.to, 1);
  if ((form.from !== "" && from === null) || (form.to !== "" && to === null)) {
    errors.dates = "Pick a full date; this one is not applied.";
  } else if (form.from !== "" && form.to !== "" && form.to < form.from) {
    errors.dates = "The end date is before the start date; the end date is not applied.";
    filter.from = from;
  } else {
    filter.from = from;
    filter.to = to;
  }

  if (value(form.min) !== null) {
    const min = normaliseAmount(form.min);
    if (min === null) errors.min = amountError(form.min);
    else filter.min_amount = min;
  }
  if (value(form.max) !== null) {
    const max = normaliseAmount(form.max);
    if (max === null) errors.max = amountError(form.max);
    // A check of what was typed, not a money computation: which bound to leave out.
    else if (filter.min_amount !== null && Number(max) < Number(filter.min_amount)) {
      errors.max = "The maximum is below the minimum; it is not applied.";
    } else filter.max_amount = max;
  }
  return { filter, errors };
}

/** Whether any field of the form narrows the payments (even one not applied yet). */
export function isFiltered(form: FilterForm): boolean {
  return (Object.keys(EMPTY_FORM) as (keyof FilterForm)[]).some((key) => form[key].trim() !== "");
}

export function sameFilter(a: PaymentFilter, b: PaymentFilter): boolean {
  return (Object.keys(a) as (keyof PaymentFilter)[]).every((key) => a[key] === b[key]);
}
