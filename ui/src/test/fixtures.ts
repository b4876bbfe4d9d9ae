// Test data in the shapes of the generated bindings.
import type { ConnectionView } from "../lib/bindings/ConnectionView";
import type { PaymentPage } from "../lib/bindings/PaymentPage";
import type { PaymentView } from "../lib/bindings/PaymentView";
import type { ProviderInfo } from "../lib/bindings/ProviderInfo";
import type { RequestLogView } from "../lib/bindings/RequestLogView";
import type { SyncRunView } from "../lib/bindings/SyncRunView";

export function connection(overrides: Partial<ConnectionView> = {}): ConnectionView {
  return {
    id: "conn-1",
    provider: "stripe",
    provider_name: "Stripe",
    name: "Demo shop",
    status: "connected",
    account_id: "acct_123",
    api_base: "http://127.0.0.1:9999",
    created_at: "2024-05-01T10:00:00Z",
    last_sync_at: "2024-05-01T10:05:00Z",
    last_error: null,
    payment_count: 3000,
    ...overrides,
  };
}

export function payment(index: number, overrides: Partial<PaymentView> = {}): PaymentView {
  return {
    id: `pay-${index}`,
    connection_id: "conn-1",
    connection: "Demo shop",
    provider: "stripe",
    external_id: `ch_${index}`,
    amount_minor: 1234,
    fee_minor: 66,
    net_minor: 1168,
    refunded_minor: 0,
    currency: "EUR",
    currency_exponent: 2,
    status: "succeeded",
    customer: `customer${index}@example.com`,
    description: `Order ${index}`,
    created_at: "2024-05-01T10:00:00Z",
    ...overrides,
  };
}

/** Page `n` (0-based) of a result set of `total` payments, `size` per page. */
export function page(n: number, size: number, total: number): PaymentPage {
  const start = n * size;
  const end = Math.min(total, start + size);
  const items: PaymentView[] = [];
  for (let i = start; i < end; i++) items.push(payment(i));
  return { items, next_cursor: end < total ? `cursor-${n + 1}` : null, total };
}

export const stripe: ProviderInfo = {
  key: "stripe",
  display_name: "Stripe",
  category: "payments",
  auth_style: "api_key",
  api_base: "https://api.stripe.com",
  docs_url: "https://docs.stripe.com/api",
  rate_limits: { per_second: 100, per_minute: null, per_day: null, concurrent: null },
  test_rate_limits: null,
  available: true,
};

export const paypal: ProviderInfo = {
  ...stripe,
  key: "paypal",
  display_name: "PayPal",
  auth_style: "client_credentials",
  api_base: "https://api-m.paypal.com",
  available: false,
};

export function run(overrides: Partial<SyncRunView> = {}): SyncRunView {
  return {
    id: "run-1",
    connection_id: "conn-1",
    connection: "Demo shop",
    stream: "charges",
    trigger: "manual",
    status: "succeeded",
    fetched: 120,
    inserted: 100,
    updated: 20,
    skipped: 0,
    failed: 0,
    started_at: "2024-05-01T10:00:00Z",
    finished_at: "2024-05-01T10:00:02Z",
    duration_ms: 2000,
    error_code: null,
    error_message: null,
    warnings: [],
    ...overrides,
  };
}

export function request(overrides: Partial<RequestLogView> = {}): RequestLogView {
  return {
    id: 1,
    connection_id: "conn-1",
    connection: "Demo shop",
    at: "2024-05-01T10:00:01Z",
    method: "GET",
    host: "127.0.0.1:9999",
    path: "/v1/charges",
    status: 200,
    duration_ms: 42,
    attempt: 1,
    request_id: "req_abc123",
    bytes: 48_213,
    error: null,
    ...overrides,
  };
}
