// How a subscription reads: its price per interval and its status. Presentation only.
import type { SubscriptionView } from "../bindings/SubscriptionView";
import { formatMoney } from "../money";
import type { StatusLook, Tone } from "../status";

const TONES: Record<string, Tone> = {
  active: "ok",
  trialing: "info",
  past_due: "bad",
  paused: "warn",
  canceled: "neutral",
  pending: "warn",
  unknown: "neutral",
};

const LABELS: Record<string, string> = {
  active: "Active",
  trialing: "Trial",
  past_due: "Past due",
  paused: "Paused",
  canceled: "Canceled",
  pending: "Pending",
  unknown: "Unknown",
};

export function subscriptionStatus(status: string): StatusLook {
  return {
    tone: TONES[status] ?? "neutral",
    label: LABELS[status] ?? status.charAt(0).toUpperCase() + status.slice(1).replace(/_/g, " "),
  };
}

/**
 * "€12.00 / month", "€30.00 every 3 months", "€12.00" (no interval known), "every 3 months"
 * (a plan priced by what is ordered: no fixed amount), "—" (nothing known).
 */
export function priceOf(s: Pick<SubscriptionView, "amount_minor" | "currency" | "currency_exponent" | "interval" | "interval_count">): string {
  const count = s.interval_count ?? 1;
  if (s.amount_minor === null || s.currency === null || s.currency_exponent === null) {
    if (!s.interval) return "—";
    return count === 1 ? `every ${s.interval}` : `every ${count} ${s.interval}s`;
  }
  const money = formatMoney(s.amount_minor, s.currency, s.currency_exponent);
  if (!s.interval) return money;
  return count === 1 ? `${money} / ${s.interval}` : `${money} every ${count} ${s.interval}s`;
}
