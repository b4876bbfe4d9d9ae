// The Dashboard's periods as day ranges. `get_dashboard` takes the first and the last day
// (`YYYY-MM-DD`, both included); "this month" is the calendar month of the user's today.
import { displayLocale } from "../locale";

export type PeriodKind = "this_month" | "last_month" | "this_year" | "last_year" | "custom";

export const PERIODS: { id: PeriodKind; label: string }[] = [
  { id: "this_month", label: "This month" },
  { id: "last_month", label: "Last month" },
  { id: "this_year", label: "This year" },
  { id: "last_year", label: "Last year" },
  { id: "custom", label: "Custom…" },
];

/** First and last day, both included, as `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

/** `YYYY-MM-DD` of a calendar date; months and days out of range roll over (day 0: the last of the month before). */
export function day(year: number, monthIndex: number, date: number): string {
  return new Date(Date.UTC(year, monthIndex, date)).toISOString().slice(0, 10);
}

/** The days of a named period around `today` (its calendar date where the user is). */
export function rangeOf(kind: Exclude<PeriodKind, "custom">, today: Date): DayRange {
  const year = today.getFullYear();
  const month = today.getMonth();
  switch (kind) {
    case "this_month":
      return { from: day(year, month, 1), to: day(year, month + 1, 0) };
    case "last_month":
      return { from: day(year, month - 1, 1), to: day(year, month, 0) };
    case "this_year":
      return { from: day(year, 0, 1), to: day(year, 11, 31) };
    case "last_year":
      return { from: day(year - 1, 0, 1), to: day(year - 1, 11, 31) };
  }
}

/** Whether `text` is a real `YYYY-MM-DD` day. */
export function isDay(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Why a custom range cannot be shown, or null when it can. */
export function customRangeProblem(range: DayRange): string | null {
  if (!isDay(range.from) || !isDay(range.to)) return "Enter both days.";
  if (range.from > range.to) return "The first day must not be after the last day.";
  return null;
}

/** "1 May – 31 May 2024", for the heading of what is shown. */
export function formatRange(range: DayRange, locale?: string): string {
  const format = new Intl.DateTimeFormat(locale ?? displayLocale(), { dateStyle: "medium", timeZone: "UTC" });
  const from = new Date(`${range.from}T00:00:00Z`);
  const to = new Date(`${range.to}T00:00:00Z`);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return `${range.from} – ${range.to}`;
  try {
    return format.formatRange(from, to);
  } catch {
    return `${format.format(from)} – ${format.format(to)}`;
  }
}

/** A series period's label: "May 2024" for a month, "1 May" for a day. */
export function formatPeriod(period: string, bucket: string, locale?: string): string {
  const date = new Date(`${period}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return period;
  const options: Intl.DateTimeFormatOptions =
    bucket === "month"
      ? { month: "short", year: "numeric", timeZone: "UTC" }
      : { day: "numeric", month: "short", timeZone: "UTC" };
  return new Intl.DateTimeFormat(locale ?? displayLocale(), options).format(date);
}
