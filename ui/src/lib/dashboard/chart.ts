// The Dashboard chart's data and its Chart.js configuration. Amounts are plotted in integer minor
// units, exactly as Rust sends them, and only formatted (axis ticks, tooltips) with the
// exponent that came with them: no division, no floating point.
import type { ChartConfiguration } from "chart.js";
import type { TotalsRow } from "../bindings/TotalsRow";
import { formatMoney } from "../money";
import { formatPeriod } from "./period";

/** One currency's series: a label per period and gross / net per period, in minor units. */
export interface SeriesData {
  currency: string;
  exponent: number;
  /** The periods' first days (`YYYY-MM-DD`), oldest first. */
  periods: string[];
  labels: string[];
  gross: number[];
  net: number[];
}

/** The rows of `series` in one currency, in the order Rust gave them (oldest first). */
export function seriesOf(
  series: readonly TotalsRow[],
  currency: string,
  exponent: number,
  bucket: string,
  locale?: string,
): SeriesData {
  const rows = series.filter((row) => row.currency === currency);
  return {
    currency,
    exponent,
    periods: rows.map((row) => row.period),
    labels: rows.map((row) => formatPeriod(row.period, bucket, locale)),
    gross: rows.map((row) => row.totals.gross_minor),
    net: rows.map((row) => row.totals.net_minor),
  };
}

export interface ChartColors {
  gross: string;
  net: string;
  text: string;
  grid: string;
}

export const FALLBACK_COLORS: ChartColors = {
  gross: "#4f5bd5",
  net: "#1d6b34",
  text: "#5b6472",
  grid: "#eceef2",
};

export function chartConfig(
  data: SeriesData,
  colors: ChartColors = FALLBACK_COLORS,
  animate = true,
): ChartConfiguration<"bar", number[], string> {
  const money = (minor: number) => formatMoney(minor, data.currency, data.exponent);
  return {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Gross", data: data.gross, backgroundColor: colors.gross, borderRadius: 3 },
        { label: "Net", data: data.net, backgroundColor: colors.net, borderRadius: 3 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: animate ? { duration: 250 } : false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { color: colors.text }, grid: { display: false } },
        y: {
          beginAtZero: true,
          // Whole minor units only: a tick between two cents would read as a duplicate.
          ticks: { color: colors.text, precision: 0, callback: (value) => money(Number(value)) },
          grid: { color: colors.grid },
        },
      },
      plugins: {
        legend: { position: "bottom", labels: { color: colors.text, boxWidth: 12 } },
        tooltip: {
          callbacks: { label: (item) => `${item.dataset.label ?? ""}: ${money(item.parsed.y ?? 0)}` },
        },
      },
    },
  };
}
