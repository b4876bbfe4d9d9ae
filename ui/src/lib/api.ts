// The only module that talks to the Rust side. Every command of the contract has one typed
// wrapper here; components import these, and tests mock IPC underneath them.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { NetworkStatusView } from "./bindings/NetworkStatusView";
import type { CommandError } from "./bindings/CommandError";
import type { PaymentRequestSettingsView } from "./bindings/PaymentRequestSettingsView";
import type { CredentialReconnect } from "./bindings/CredentialReconnect";
import type { ConnectionTestView } from "./bindings/ConnectionTestView";
import type { ConnectionView } from "./bindings/ConnectionView";
import type { DisconnectView } from "./bindings/DisconnectView";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { HealthView } from "./bindings/HealthView";
import type { KeyReconnect } from "./bindings/KeyReconnect";
import type { NewCredentialConnection } from "./bindings/NewCredentialConnection";
import type { NewOAuthConnection } from "./bindings/NewOAuthConnection";
import type { NewStripeConnection } from "./bindings/NewStripeConnection";
import type { OAuthDefaults } from "./bindings/OAuthDefaults";
import type { PaymentDetail } from "./bindings/PaymentDetail";
import type { PaymentPage } from "./bindings/PaymentPage";
import type { PaymentFilter } from "./bindings/PaymentFilter";
import type { DashboardView } from "./bindings/DashboardView";
import type { ExportView } from "./bindings/ExportView";
import type { NewPaymentRequest } from "./bindings/NewPaymentRequest";
import type { PaymentRequestOption } from "./bindings/PaymentRequestOption";
import type { PaymentRequestView } from "./bindings/PaymentRequestView";
import type { PayoutDetail } from "./bindings/PayoutDetail";
import type { PayoutPage } from "./bindings/PayoutPage";
import type { SubscriptionView } from "./bindings/SubscriptionView";
import type { ProviderInfo } from "./bindings/ProviderInfo";
import type { ReconnectRequest } from "./bindings/ReconnectRequest";
import type { RequestLogView } from "./bindings/RequestLogView";
import type { SyncProgress } from "./bindings/SyncProgress";
import type { SyncRunView } from "./bindings/SyncRunView";
import type { WorkspaceInfo } from "./bindings/WorkspaceInfo";
import type { BackupSettingsView } from "./bindings/BackupSettingsView";
import type { BackupVerification } from "./bindings/BackupVerification";
import type { BackupView } from "./bindings/BackupView";
import type { KeyExportView } from "./bindings/KeyExportView";
import type { RestoreView } from "./bindings/RestoreView";

/** A rejected command, always in the contract's shape (`code`, `message`, `retryable`). */
export class ApiError extends Error implements CommandError {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(error: CommandError) {
    super(error.message);
    this.name = "ApiError";
    this.code = error.code;
    this.retryable = error.retryable;
  }
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as CommandError).code === "string" &&
    typeof (value as CommandError).message === "string"
  );
}

/** Turns whatever a command rejected with into an `ApiError`. */
export function toApiError(value: unknown): ApiError {
  if (value instanceof ApiError) return value;
  if (isCommandError(value)) {
    return new ApiError({
      code: value.code,
      message: value.message,
      retryable: value.retryable === true,
    });
  }
  // Tauri itself rejects with a plain string (unknown command, denied by capabilities).
  const message =
    typeof value === "string"
      ? value
      : value instanceof Error
        ? value.message
        : "Something went wrong inside Switchboard.";
  return new ApiError({ code: "internal", message, retryable: false });
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toApiError(error);
  }
}

export function getWorkspace(): Promise<WorkspaceInfo> {
  return call("get_workspace");
}

export function leaveDemo(): Promise<WorkspaceInfo> {
  return call("leave_demo");
}

export function listProviders(): Promise<ProviderInfo[]> {
  return call("list_providers");
}

export function listConnections(): Promise<ConnectionView[]> {
  return call("list_connections");
}

/** Sends the key once. The caller must drop its own copy as soon as this is called. */
export function addStripeConnection(input: NewStripeConnection): Promise<ConnectionView> {
  return call("add_stripe_connection", { input });
}

/**
 * Connects a provider from its credentials form (`ProviderInfo.credential_fields`, by key): Rust
 * checks the credentials with the provider and identifies the account before storing anything.
 * Sends the secrets once; the caller must drop its own copies as soon as this is called.
 */
export function connectWithCredentials(input: NewCredentialConnection): Promise<ConnectionView> {
  return call("connect_with_credentials", { input });
}

// Connections through a browser sign-in (OAuth), and ending connections.

/** The client id and relay this app is configured with for a provider's sign-in (env vars). */
export function oauthDefaults(provider: string): Promise<OAuthDefaults> {
  return call("oauth_defaults", { provider });
}

/**
 * Opens the provider's sign-in page in the system browser and resolves once the user approved
 * and the connection is stored (Rust waits up to 5 minutes). A client secret in `input` is sent
 * once; the caller must drop its own copy as soon as this is called.
 */
export function connectOAuth(input: NewOAuthConnection): Promise<ConnectionView> {
  return call("connect_oauth", { input });
}

/** Signs the same connection in again through the browser; its data and history stay. */
export function reconnectConnection(input: ReconnectRequest): Promise<ConnectionView> {
  return call("reconnect_connection", { input });
}

/**
 * Gives a key connection (Stripe) its new key, checked with the provider first, on the same
 * connection: its data and cursors stay and the next sync resumes. Sends the key once; the caller
 * must drop its own copy as soon as this is called.
 */
export function reconnectWithKey(input: KeyReconnect): Promise<ConnectionView> {
  return call("reconnect_with_key", { input });
}

/**
 * Gives a connection made with the credentials form (PayPal, Twilio, SendGrid, SMTP, …) new
 * credentials (`values` by the form's keys), checked with the provider first, on the same
 * connection: it keeps its name, address and history. Sends the secrets once; the caller must
 * drop its own copies as soon as this is called.
 */
export function reconnectWithCredentials(input: CredentialReconnect): Promise<ConnectionView> {
  return call("reconnect_with_credentials", { input });
}

/** Ends the provider's access where it can and forgets the secrets; the data stays. */
export function disconnectConnection(connectionId: string): Promise<DisconnectView> {
  return call("disconnect_connection", { connectionId });
}

/** Deletes a disconnected connection and all its data; resolves to its name. */
export function deleteConnection(connectionId: string): Promise<string> {
  return call("delete_connection", { connectionId });
}

/** Syncs one connection, or all of them when `connectionId` is null, streaming progress. */
export function syncConnection(
  connectionId: string | null,
  onProgress: (progress: SyncProgress) => void,
): Promise<SyncRunView[]> {
  const channel = new Channel<SyncProgress>(onProgress);
  return call("sync_connection", { connectionId, onProgress: channel });
}

/**
 * Asks running syncs of one connection, or of all when `connectionId` is null, to stop after the
 * page in hand. The `syncConnection` call then resolves as usual, the interrupted stream's run
 * `cancelled`; nothing saved is lost and the next sync continues from there.
 */
export function cancelSync(connectionId: string | null): Promise<void> {
  return call<null>("cancel_sync", { connectionId }).then(() => undefined);
}

export interface PaymentQuery {
  filter: PaymentFilter;
  limit: number;
  after: string | null;
  /** Count every match too (`total`); costs more, so ask on a query's first page only. */
  withTotal: boolean;
}

/** An empty filter: every payment. */
export function allPayments(): PaymentFilter {
  return {
    provider: null,
    connection: null,
    status: null,
    currency: null,
    from: null,
    to: null,
    min_amount: null,
    max_amount: null,
    search: null,
  };
}

/** One keyset page of the payments a filter selects, newest first. */
export function listPayments(query: PaymentQuery): Promise<PaymentPage> {
  return call("list_payments", { ...query });
}

export function countPayments(filter: PaymentFilter): Promise<number> {
  return call("count_payments", { filter });
}

/** Writes the payments a filter selects to a CSV file in the Downloads folder. */
export function exportPaymentsCsv(filter: PaymentFilter): Promise<ExportView> {
  return call("export_payments_csv", { filter });
}

/** Totals for the days `from` to `to` (`YYYY-MM-DD`, UTC, both included). */
export function getDashboard(from: string, to: string): Promise<DashboardView> {
  return call("get_dashboard", { from, to });
}

export function listPayouts(
  connection: string | null,
  limit: number,
  after: string | null,
): Promise<PayoutPage> {
  return call("list_payouts", { connection, limit, after });
}

export function getPayout(id: string): Promise<PayoutDetail> {
  return call("get_payout", { id });
}

export function listSubscriptions(connection: string | null): Promise<SubscriptionView[]> {
  return call("list_subscriptions", { connection });
}

/** Asks the provider to stop the subscription when its period ends (through the outbox). */
export function cancelSubscription(id: string): Promise<SubscriptionView> {
  return call("cancel_subscription", { id });
}

/** The connections that can ask for money, and whether each can right now. */
export function paymentRequestOptions(): Promise<PaymentRequestOption[]> {
  return call("payment_request_options", {});
}

/** Creates a payment link (through the outbox) and returns the request as it is then. */
export function requestPayment(input: NewPaymentRequest): Promise<PaymentRequestView> {
  return call("request_payment", { input });
}

/** Opens a payment request's link in the system browser. */
export function openPaymentRequest(id: string): Promise<void> {
  return call<null>("open_payment_request", { id }).then(() => undefined);
}

export function listPaymentRequests(limit: number): Promise<PaymentRequestView[]> {
  return call("list_payment_requests", { limit });
}

export function paymentRequestSettings(): Promise<PaymentRequestSettingsView> {
  return call("payment_request_settings");
}

/** The page customers land on after paying; null or "" for each provider's own. Rust checks it. */
export function setPaymentReturnUrl(url: string | null): Promise<PaymentRequestSettingsView> {
  return call("set_payment_return_url", { url });
}

/** Opens the payment in its provider's dashboard, in the system browser. */
export function openPaymentDashboard(id: string): Promise<void> {
  return call<null>("open_payment_dashboard", { id }).then(() => undefined);
}

export function getPayment(id: string): Promise<PaymentDetail> {
  return call("get_payment", { id });
}

export function listSyncRuns(limit: number): Promise<SyncRunView[]> {
  return call("list_sync_runs", { limit });
}

/** The request log, newest first: one connection's (id or name) or, when null, every one's. */
export function listRequests(connectionId: string | null, limit?: number): Promise<RequestLogView[]> {
  return call("list_requests", limit === undefined ? { connectionId } : { connectionId, limit });
}

/** Every connection's health: last success and error, circuit breaker, budget left, attention. */
export function getHealth(): Promise<HealthView> {
  return call("get_health");
}

/** One cheap authenticated call through the connection's rate budget and circuit breaker. */
export function testConnection(connectionId: string): Promise<ConnectionTestView> {
  return call("test_connection", { connectionId });
}

// Backups (Settings → Backups).

export function getBackupSettings(): Promise<BackupSettingsView> {
  return call("get_backup_settings");
}

/** Chooses the backup folder (a full path); null or "" goes back to the default. */
export function setBackupFolder(
  folder: string | null,
): Promise<BackupSettingsView> {
  return call("set_backup_folder", { folder });
}

export function listBackups(): Promise<BackupView[]> {
  return call("list_backups");
}

/** Backs up now: a verified snapshot, then the retention rule thins out older backups. */
export function createBackup(): Promise<BackupView> {
  return call("create_backup");
}

/** Verifies one backup, or the newest when `id` is null. */
export function verifyBackup(id: string | null): Promise<BackupVerification> {
  return call("verify_backup", { id });
}

/**
 * Restores a backup; the current database is kept as a backup first, and the workspace reopens.
 * `keyFile`/`passphrase` only for a backup whose master key this computer lacks. The caller must
 * drop its copy of the passphrase as soon as this is called.
 */
export function restoreBackup(
  id: string,
  keyFile: string | null = null,
  passphrase: string | null = null,
): Promise<RestoreView> {
  return call("restore_backup", { id, keyFile, passphrase });
}

/** Writes the master key sealed with `passphrase` to `to` (a new file, or a folder). */
export function exportMasterKey(
  to: string,
  passphrase: string,
): Promise<KeyExportView> {
  return call("export_master_key", { to, passphrase });
}

// The outbox: refunds (and later everything sent to providers), dead letters.

/** What a payment can still be refunded (from stored data and refunds not yet sent). */
export function refundQuote(payment: string): Promise<import("./bindings/RefundQuoteView").RefundQuoteView> {
  return call("refund_quote", { payment });
}

/** Queues a refund in the outbox and sends it; the item as it is then (it may still be queued). */
export function refundPayment(
  input: import("./bindings/NewRefund").NewRefund,
): Promise<import("./bindings/OutboxItemView").OutboxItemView> {
  return call("refund_payment", { input });
}

/** Sends every outbox item that is due now. */
export function processOutbox(): Promise<import("./bindings/OutboxRunView").OutboxRunView> {
  return call("process_outbox");
}

export function getOutboxItem(id: string): Promise<import("./bindings/OutboxItemView").OutboxItemView> {
  return call("get_outbox_item", { id });
}

/** The outbox, newest first; only dead letters when `deadOnly`. */
export function listOutbox(
  deadOnly: boolean,
  limit?: number,
): Promise<import("./bindings/OutboxItemView").OutboxItemView[]> {
  return call("list_outbox", limit === undefined ? { deadOnly } : { deadOnly, limit });
}

/** Puts a dead letter back in the queue and sends it at once. */
export function retryDeadLetter(id: string): Promise<import("./bindings/OutboxItemView").OutboxItemView> {
  return call("retry_dead_letter", { id });
}

/** Gives up a dead letter (it stays listed as discarded). */
export function discardDeadLetter(id: string): Promise<import("./bindings/OutboxItemView").OutboxItemView> {
  return call("discard_dead_letter", { id });
}

/** How often a connection syncs on its own, in minutes; `null` turns scheduled syncs off. */
export function setSyncInterval(connectionId: string, minutes: number | null): Promise<ConnectionView> {
  return call("set_sync_interval", { connectionId, minutes });
}

export function getNetworkStatus(): Promise<NetworkStatusView> {
  return call("get_network_status");
}

/** Runs the background scheduler finished (the shell's `scheduled-sync` event). */
export function onScheduledSync(handler: (runs: SyncRunView[]) => void): Promise<UnlistenFn> {
  return listen<SyncRunView[]>("scheduled-sync", (event) => handler(event.payload));
}

/** The network went away or came back (the shell's `network-status` event). */
export function onNetworkStatus(handler: (status: NetworkStatusView) => void): Promise<UnlistenFn> {
  return listen<NetworkStatusView>("network-status", (event) => handler(event.payload));
}

// Webhooks (Settings → Webhooks).

/** The receiver's settings and state, and each Stripe/Square/PayPal connection's set-up. */
export function getWebhookSettings(): Promise<import("./bindings/WebhookSettingsView").WebhookSettingsView> {
  return call("get_webhook_settings");
}

/** Turns the receiver on or off on `port` (1024–65535); answers once applied (listening or why not). */
export function setWebhookReceiver(
  enabled: boolean,
  port: number,
): Promise<import("./bindings/WebhookSettingsView").WebhookSettingsView> {
  return call("set_webhook_receiver", { enabled, port });
}

/**
 * Sets or rotates a connection's webhook secret (Stripe signing secret, Square signature key;
 * Square also needs the notification URL it signs). Sends the secret once: the caller must drop
 * its own copy as soon as this is called.
 */
export function setWebhookSecret(
  connection: string,
  secret: string,
  notificationUrl: string | null,
): Promise<import("./bindings/WebhookSettingsView").WebhookSettingsView> {
  return call("set_webhook_secret", { connection, secret, notificationUrl });
}

/**
 * Sets a PayPal connection's webhook ID (the ID PayPal shows for the webhook; not a secret),
 * which PayPal's check of each event needs.
 */
export function setPaypalWebhookId(
  connection: string,
  webhookId: string,
): Promise<import("./bindings/WebhookSettingsView").WebhookSettingsView> {
  return call("set_paypal_webhook_id", { connection, webhookId });
}

/** Webhook events received, newest first. */
export function listWebhookEvents(limit: number): Promise<import("./bindings/WebhookEventView").WebhookEventView[]> {
  return call("list_webhook_events", { limit });
}
