// Test data for the Payments and Payouts screens, in the shapes of the generated bindings.
import type { DisputeView } from "../lib/bindings/DisputeView";
import type { PaymentDetail } from "../lib/bindings/PaymentDetail";
import type { PaymentPage } from "../lib/bindings/PaymentPage";
import type { PayoutDetail } from "../lib/bindings/PayoutDetail";
import type { PayoutEntryView } from "../lib/bindings/PayoutEntryView";
import type { PayoutPage } from "../lib/bindings/PayoutPage";
import type { PayoutView } from "../lib/bindings/PayoutView";
import type { TimelineEntry } from "../lib/bindings/TimelineEntry";
import { payment } from "./fixtures";

export { connection, payment } from "./fixtures";

/** A one-page result of `payments`, counted as `total` (or its length). */
export function paymentPage(
  items: PaymentDetail["payment"][],
  total: number | null = items.length,
): PaymentPage {
  return { items, next_cursor: null, total };
}

export function timelineEntry(kind: string, label: string, at: string): TimelineEntry {
  return { kind, label, at };
}

export function dispute(overrides: Partial<DisputeView> = {}): DisputeView {
  return {
    external_id: "dp_1",
    amount_minor: 1234,
    currency: "EUR",
    currency_exponent: 2,
    status: "needs_response",
    reason: "fraudulent",
    evidence_due_by: "2024-05-20T23:59:59Z",
    created_at: "2024-05-05T09:00:00Z",
    ...overrides,
  };
}

export function payout(overrides: Partial<PayoutView> = {}): PayoutView {
  return {
    id: "payout-1",
    connection_id: "conn-1",
    connection: "Demo shop",
    provider: "stripe",
    external_id: "po_1",
    amount_minor: 11680,
    currency: "EUR",
    currency_exponent: 2,
    status: "paid",
    arrival_date: "2024-05-03T00:00:00Z",
    destination: "DE89 •••• 3000",
    created_at: "2024-05-01T12:00:00Z",
    entries: 2,
    entries_net_minor: 11680,
    difference_minor: 0,
    ...overrides,
  };
}

export function payoutEntry(overrides: Partial<PayoutEntryView> = {}): PayoutEntryView {
  return {
    external_id: "txn_1",
    kind: "charge",
    source_external_id: "ch_1",
    payment_id: "pay-1",
    gross_minor: 1234,
    fee_minor: 66,
    net_minor: 1168,
    currency: "EUR",
    currency_exponent: 2,
    created_at: "2024-05-01T10:00:00Z",
    ...overrides,
  };
}

export function payoutDetail(overrides: Partial<PayoutDetail> = {}): PayoutDetail {
  return {
    payout: payout(),
    entries: [
      payoutEntry(),
      payoutEntry({
        external_id: "txn_2",
        kind: "refund",
        source_external_id: "re_9",
        payment_id: null,
        gross_minor: -500,
        fee_minor: 0,
        net_minor: -500,
      }),
    ],
    raw_json: '{\n  "id": "po_1"\n}',
    ...overrides,
  };
}

export function payoutPage(items: PayoutView[], next_cursor: string | null = null): PayoutPage {
  return { items, next_cursor };
}

/** The detail of `payment(index)`, with a timeline and nothing else unless overridden. */
export function paymentDetail(index: number, overrides: Partial<PaymentDetail> = {}): PaymentDetail {
  return {
    payment: payment(index),
    refunds: [],
    settlement: null,
    disputes: [],
    payout: null,
    timeline: [
      timelineEntry("created", "Created", "2024-05-01T10:00:00Z"),
      timelineEntry("captured", "Captured €12.34", "2024-05-01T10:00:02Z"),
    ],
    dashboard_url: null,
    raw_json: `{\n  "id": "ch_${index}"\n}`,
    ...overrides,
  };
}
