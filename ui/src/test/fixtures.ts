// Test data in the shapes of the generated bindings.
import type { ConnectionHealthView } from "../lib/bindings/ConnectionHealthView";
import type { ConnectionView } from "../lib/bindings/ConnectionView";
import type { CredentialField } from "../lib/bindings/CredentialField";
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
    account_name: "Acme Supplies",
    scopes: [],
    api_base: "http://127.0.0.1:9999",
    created_at: "2024-05-01T10:00:00Z",
    last_sync_at: "2024-05-01T10:05:00Z",
    last_error: null,
    payment_count: 3000,
    sync_interval_minutes: 60,
    next_sync_at: "2024-05-01T11:05:00Z",
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
    method: "card",
    customer_email: `customer${index}@example.com`,
    settled_as: null,
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

/** A field of a credentials form, required and plain unless overridden (as Rust's `field`). */
export function credentialField(
  key: string,
  label: string,
  kind: CredentialField["kind"],
  overrides: Partial<CredentialField> = {},
): CredentialField {
  return { key, label, kind, required: true, choices: [], placeholder: "", hint: "", ...overrides };
}

export const stripe: ProviderInfo = {
  key: "stripe",
  display_name: "Stripe",
  category: "payments",
  auth_style: "api_key",
  api_base: "https://api.stripe.com",
  docs_url: "https://docs.stripe.com/api",
  rate_limits: { per_second: 100, per_minute: null, per_day: null, concurrent: null },
  test_rate_limits: { per_second: 25, per_minute: null, per_day: null, concurrent: null },
  daily_reset: "rolling_24h",
  available: true,
  pulls: true,
  oauth: null,
  connect_note: "",
  credential_fields: [
    credentialField("api_key", "Secret or restricted key", "secret", { placeholder: "sk_live_… or rk_live_…" }),
  ],
};

/** The credentials providers Switchboard connects but does not pull from yet (as in Rust's catalogue). */
export const paypal: ProviderInfo = {
  ...stripe,
  key: "paypal",
  display_name: "PayPal",
  auth_style: "client_credentials",
  api_base: "https://api-m.paypal.com",
  docs_url: "https://developer.paypal.com/api/rest/",
  rate_limits: { per_second: null, per_minute: null, per_day: null, concurrent: null },
  test_rate_limits: null,
  pulls: false,
  connect_note: "Switchboard signs in as your REST app with its client ID and secret.",
  credential_fields: [
    credentialField("environment", "Environment", "choice", {
      choices: ["live", "sandbox"],
      hint: "Sandbox apps and their credentials live in the PayPal developer dashboard.",
    }),
    credentialField("client_id", "Client ID", "text", { hint: "Developer dashboard → Apps & Credentials → your REST app." }),
    credentialField("client_secret", "Secret", "secret"),
  ],
};

export const twilio: ProviderInfo = {
  ...paypal,
  key: "twilio",
  display_name: "Twilio SMS & WhatsApp",
  category: "messaging",
  auth_style: "basic",
  api_base: "https://api.twilio.com",
  docs_url: "https://www.twilio.com/docs/messaging/api",
  connect_note: "",
  credential_fields: [
    credentialField("account_sid", "Account SID", "text", { placeholder: "AC…", hint: "Console → Account info." }),
    credentialField("api_key_sid", "API key SID", "text", {
      required: false,
      placeholder: "SK…",
      hint: "Leave empty to use the Auth Token; an API key can be revoked on its own.",
    }),
    credentialField("secret", "Auth Token or API key secret", "secret", {
      hint: "The Auth Token, or the API key's secret when an API key SID is given.",
    }),
  ],
};

export const sendgrid: ProviderInfo = {
  ...paypal,
  key: "sendgrid",
  display_name: "SendGrid",
  category: "messaging",
  auth_style: "api_key",
  api_base: "https://api.sendgrid.com",
  docs_url: "https://www.twilio.com/docs/sendgrid/api-reference",
  connect_note: "",
  credential_fields: [
    credentialField("api_key", "API key", "secret", {
      placeholder: "SG.…",
      hint: "Settings → API Keys; Mail Send plus read access to your user account.",
    }),
  ],
};

export const smtp: ProviderInfo = {
  ...paypal,
  key: "smtp",
  display_name: "SMTP email",
  category: "messaging",
  auth_style: "basic",
  api_base: "",
  docs_url: "https://datatracker.ietf.org/doc/html/rfc5321",
  connect_note: "",
  credential_fields: [
    credentialField("host", "Server", "text", { placeholder: "smtp.example.com" }),
    credentialField("security", "Security", "choice", {
      choices: ["starttls", "tls", "none"],
      hint: "STARTTLS on port 587 is the usual choice; TLS is port 465; none only for a server on this computer.",
    }),
    credentialField("port", "Port", "number", {
      required: false,
      placeholder: "587",
      hint: "Leave empty for the security's usual port.",
    }),
    credentialField("user", "User name", "text"),
    credentialField("password", "Password", "secret"),
  ],
};

export const billionmail: ProviderInfo = {
  ...paypal,
  key: "billionmail",
  display_name: "BillionMail",
  category: "marketing",
  auth_style: "api_key",
  api_base: "",
  docs_url: "https://github.com/aaPanel/BillionMail",
  connect_note: "",
  credential_fields: [
    credentialField("address", "BillionMail address", "text", {
      placeholder: "https://mail.example.com",
      hint: "The address of your BillionMail server.",
    }),
    credentialField("api_key", "API key", "secret", { hint: "BillionMail → Settings → API." }),
  ],
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

export function health(overrides: Partial<ConnectionHealthView> = {}): ConnectionHealthView {
  return {
    connection_id: "conn-1",
    connection: "Demo shop",
    provider: "stripe",
    status: "connected",
    last_success_at: "2024-05-01T10:05:00Z",
    last_error_at: null,
    last_error: null,
    circuit: "closed",
    consecutive_failures: 0,
    circuit_retry_at: null,
    token: "not_applicable",
    token_lapses_at: null,
    budget: {
      limits: { per_second: 100, per_minute: null, per_day: null, concurrent: null },
      overridden: false,
      daily_reset: null,
      daily_used: null,
      daily_left: null,
      daily_resets_at: null,
    },
    needs_attention: false,
    reasons: [],
    ...overrides,
  };
}

export function outboxItem(
  overrides: Partial<import("../lib/bindings/OutboxItemView").OutboxItemView> = {},
): import("../lib/bindings/OutboxItemView").OutboxItemView {
  return {
    id: "item-1",
    connection_id: "conn-1",
    connection: "Demo shop",
    kind: "stripe.refund",
    summary: "Refund 12.34 EUR of ch_1 (requested by customer)",
    target: "ch_1",
    payment_id: "pay-1",
    amount_minor: 1234,
    currency: "EUR",
    currency_exponent: 2,
    reason: "requested_by_customer",
    status: "succeeded",
    is_final: true,
    attempts: 1,
    max_attempts: 5,
    next_attempt_at: null,
    last_error_code: null,
    last_error_message: null,
    result_external_id: "re_1",
    created_at: "2024-05-01T10:00:00.000Z",
    updated_at: "2024-05-01T10:00:01.000Z",
    ...overrides,
  };
}

export function refundQuote(
  overrides: Partial<import("../lib/bindings/RefundQuoteView").RefundQuoteView> = {},
): import("../lib/bindings/RefundQuoteView").RefundQuoteView {
  return {
    payment_id: "pay-1",
    external_id: "ch_1",
    amount_minor: 5000,
    refunded_minor: 1000,
    pending_minor: 0,
    refundable_minor: 4000,
    currency: "EUR",
    currency_exponent: 2,
    blocked_reason: null,
    reasons: ["duplicate", "fraudulent", "requested_by_customer"],
    ...overrides,
  };
}

/** An OAuth provider's facts, Xero-like unless overridden. */
export function oauthInfo(
  overrides: Partial<import("../lib/bindings/OAuthInfo").OAuthInfo> = {},
): import("../lib/bindings/OAuthInfo").OAuthInfo {
  return {
    authorize_url: "https://login.xero.com/identity/connect/authorize",
    token_url: "https://identity.xero.com/connect/token",
    revoke_url: "https://identity.xero.com/connect/revocation",
    revoke_style: "rfc7009",
    scopes: ["openid", "offline_access", "accounting.settings.read"],
    incremental: [
      {
        feature: "post_to_ledger",
        scopes: ["accounting.invoices", "accounting.payments"],
        why: "To post payments, fees and refunds to Xero, Switchboard needs to create invoices and payments.",
      },
    ],
    authorize_params: [],
    redirect: { host: "localhost", port: 53682, path: "/callback" },
    redirect_params: [],
    client_auth: "none",
    token_body: "form",
    tokens: {
      access_token_secs: 1800,
      refresh_rotates: true,
      previous_refresh_grace_secs: 1800,
      refresh_lapses_unused_days: 60,
      consent_expires_days: null,
    },
    needs_client_secret: false,
    consent_note: "Your browser opens Xero's sign-in page. Xero asks you to allow Switchboard to read your organisation's settings.",
    docs: ["https://developer.xero.com/documentation/guides/oauth2/pkce-flow"],
    ...overrides,
  };
}

export const xero: ProviderInfo = {
  ...stripe,
  key: "xero",
  display_name: "Xero",
  category: "accounting",
  auth_style: "o_auth_pkce",
  api_base: "https://api.xero.com/api.xro/2.0",
  docs_url: "https://developer.xero.com",
  available: true,
  pulls: false,
  oauth: oauthInfo(),
  connect_note: "",
  credential_fields: [],
};

export const quickbooks: ProviderInfo = {
  ...xero,
  key: "quickbooks",
  display_name: "QuickBooks Online",
  api_base: "https://quickbooks.api.intuit.com",
  oauth: oauthInfo({
    scopes: ["com.intuit.quickbooks.accounting"],
    needs_client_secret: true,
    client_auth: "secret_basic",
    consent_note: "Your browser opens Intuit's sign-in page. Intuit asks you to pick the company.",
  }),
};

export const mautic: ProviderInfo = {
  ...xero,
  key: "mautic",
  display_name: "Mautic",
  category: "marketing",
  api_base: "",
  oauth: oauthInfo({
    scopes: [],
    incremental: [],
    needs_client_secret: true,
    consent_note: "Your browser opens your Mautic's sign-in page.",
  }),
  // Mautic also connects with a user's password where its instance enables basic auth.
  connect_note: "",
  credential_fields: [
    credentialField("address", "Mautic address", "text"),
    credentialField("user", "User name", "text"),
    credentialField("password", "Password", "secret"),
  ],
};

export const googleCalendar: ProviderInfo = {
  ...xero,
  key: "google_calendar",
  display_name: "Google Calendar",
  category: "calendar",
  api_base: "https://www.googleapis.com/calendar/v3",
  oauth: oauthInfo({ scopes: ["https://www.googleapis.com/auth/calendar.readonly"] }),
};

/** A Xero connection. */
export function xeroConnection(overrides: Partial<ConnectionView> = {}): ConnectionView {
  return connection({
    id: "conn-x",
    provider: "xero",
    provider_name: "Xero",
    name: "Books",
    account_id: "tenant-1",
    account_name: "Demo Company (AU)",
    scopes: ["openid", "offline_access", "accounting.settings.read"],
    api_base: "https://api.xero.com/api.xro/2.0",
    payment_count: 0,
    sync_interval_minutes: null,
    next_sync_at: null,
    ...overrides,
  });
}
