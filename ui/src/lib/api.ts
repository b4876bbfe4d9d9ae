// The only module that talks to the Rust side. Every command of the contract has one typed
// wrapper here; components import these, and tests mock IPC underneath them.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { CommandError } from "./bindings/CommandError";
import type { ConnectionView } from "./bindings/ConnectionView";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { NewStripeConnection } from "./bindings/NewStripeConnection";
import type { PaymentDetail } from "./bindings/PaymentDetail";
import type { PaymentPage } from "./bindings/PaymentPage";
import type { ProviderInfo } from "./bindings/ProviderInfo";
import type { RequestLogView } from "./bindings/RequestLogView";
import type { SyncProgress } from "./bindings/SyncProgress";
import type { SyncRunView } from "./bindings/SyncRunView";
import type { WorkspaceInfo } from "./bindings/WorkspaceInfo";

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
  connection: string | null;
  limit: number;
  after: string | null;
}

export function listPayments(query: PaymentQuery): Promise<PaymentPage> {
  return call("list_payments", { ...query });
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
