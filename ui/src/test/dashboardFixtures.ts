// Test data for the Dashboard, Subscriptions and payment requests, in the bindings' shapes.
import type { DashboardView } from "../lib/bindings/DashboardView";
import type { MoneyTotals } from "../lib/bindings/MoneyTotals";
import type { PaymentRequestOption } from "../lib/bindings/PaymentRequestOption";
import type { PaymentRequestView } from "../lib/bindings/PaymentRequestView";
import type { SubscriptionView } from "../lib/bindings/SubscriptionView";
import type { TotalsRow } from "../lib/bindings/TotalsRow";

export function totals(overrides: Partial<MoneyTotals> = {}): MoneyTotals {
  return {
    payments: 3,
    gross_minor: 10_000,
    fee_minor: 320,
    refunds: 1,
    refunded_minor: 1_500,
    net_minor: 8_180,
    payouts: 1,
    payout_minor: 7_000,
    ...overrides,
  };
}

export function totalsRow(overrides: Partial<Omit<TotalsRow, "totals">> & { totals?: Partial<MoneyTotals> } = {}): TotalsRow {
  const { totals: t, ...rest } = overrides;
  return {
    provider: "",
    period: "",
    currency: "EUR",
    currency_exponent: 2,
    ...rest,
    totals: totals(t),
  };
}

/** A month with EUR (Stripe and PayPal) and JPY (Square) takings, by day. */
export function dashboard(overrides: Partial<DashboardView> = {}): DashboardView {
  return {
    from: "2024-05-01",
    to: "2024-06-01",
    bucket: "day",
    by_currency: [
      totalsRow({ currency: "EUR" }),
      totalsRow({
        currency: "JPY",
        currency_exponent: 0,
        totals: { payments: 2, gross_minor: 12_000, fee_minor: 400, refunds: 0, refunded_minor: 0, net_minor: 11_600, payouts: 0, payout_minor: 0 },
      }),
    ],
    by_provider: [
      totalsRow({ provider: "stripe", totals: { payments: 2, gross_minor: 7_000, fee_minor: 220, net_minor: 5_280 } }),
      totalsRow({ provider: "paypal", totals: { payments: 1, gross_minor: 3_000, fee_minor: 100, refunds: 0, refunded_minor: 0, net_minor: 2_900 } }),
      totalsRow({
        provider: "square",
        currency: "JPY",
        currency_exponent: 0,
        totals: { payments: 2, gross_minor: 12_000, fee_minor: 400, refunds: 0, refunded_minor: 0, net_minor: 11_600, payouts: 0, payout_minor: 0 },
      }),
    ],
    series: [
      totalsRow({ period: "2024-05-02", totals: { gross_minor: 4_000, net_minor: 3_800 } }),
      totalsRow({ period: "2024-05-02", currency: "JPY", currency_exponent: 0, totals: { gross_minor: 12_000, net_minor: 11_600 } }),
      totalsRow({ period: "2024-05-09", totals: { gross_minor: 6_000, net_minor: 4_380 } }),
    ],
    ...overrides,
  };
}

export function emptyDashboard(overrides: Partial<DashboardView> = {}): DashboardView {
  return { from: "2024-05-01", to: "2024-06-01", bucket: "day", by_currency: [], by_provider: [], series: [], ...overrides };
}

export function subscription(overrides: Partial<SubscriptionView> = {}): SubscriptionView {
  return {
    id: "sub-1",
    connection_id: "conn-1",
    connection: "Demo shop",
    provider: "stripe",
    external_id: "sub_1",
    customer: "Ann Example",
    status: "active",
    description: "Coffee club",
    amount_minor: 1_250,
    currency: "EUR",
    currency_exponent: 2,
    interval: "month",
    interval_count: 1,
    next_charge_at: "2024-06-01T00:00:00Z",
    cancel_at_period_end: false,
    cancel_pending: false,
    cancel_blocked: null,
    created_at: "2024-01-01T10:00:00Z",
    ...overrides,
  };
}

export function requestOption(overrides: Partial<PaymentRequestOption> = {}): PaymentRequestOption {
  return {
    connection_id: "conn-1",
    connection: "Main",
    provider: "stripe",
    available: true,
    unavailable_reason: null,
    ...overrides,
  };
}

export function paymentRequest(overrides: Partial<PaymentRequestView> = {}): PaymentRequestView {
  return {
    id: "req-1",
    connection_id: "conn-1",
    connection: "Main",
    provider: "stripe",
    amount_minor: 1_250,
    currency: "EUR",
    currency_exponent: 2,
    description: "Deposit",
    customer_email: null,
    status: "created",
    url: "https://pay.example.test/link/abc",
    external_id: "plink_1",
    payment_external_id: null,
    error: null,
    fallback_from: null,
    outbox_item_id: "out-1",
    created_at: "2024-05-01T10:00:00Z",
    ...overrides,
  };
}
