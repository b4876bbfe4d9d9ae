// Display helpers for RFC 3339 UTC timestamps, durations, counts and sizes. Presentation only.
import { displayLocale } from "./locale";

/** "2024-05-01 12:34:56 UTC": the exact instant, for titles and tooltips. */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Local date and time in the user's locale, compact. */
export function formatLocal(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale ?? displayLocale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A local date without the time ("10 May 2024"), for deadlines days away. */
export function formatDate(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale ?? displayLocale(), { dateStyle: "long" }).format(date);
}

/** Local date and time to the second, for logs where several events share a minute. */
export function formatLocalSeconds(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale ?? displayLocale(), { dateStyle: "short", timeStyle: "medium" }).format(date);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 minutes ago", "yesterday", "just now". `now` is a parameter so callers and tests control it. */
export function formatRelative(iso: string, now: number = Date.now(), locale?: string): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  const rtf = new Intl.RelativeTimeFormat(locale ?? displayLocale(), { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(Math.round(seconds / 60) || (seconds < 0 ? -1 : 1), "minute");
}

/** "850 ms", "4.2 s", "3 min 5 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale ?? displayLocale()).format(n);
}

const BYTE_UNITS = ["kB", "MB", "GB", "TB"];

/** "512 B", "1.5 kB", "3.2 MB" (decimal units, as file managers show them). */
export function formatBytes(bytes: number, locale?: string): string {
  if (bytes < 1000) return `${formatCount(bytes, locale)} B`;
  let value = bytes;
  let unit = "B";
  for (const next of BYTE_UNITS) {
    if (value < 999.5) break;
    value /= 1000;
    unit = next;
  }
  const digits = new Intl.NumberFormat(locale ?? displayLocale(), { maximumFractionDigits: value < 10 ? 1 : 0 });
  return `${digits.format(value)} ${unit}`;
}
