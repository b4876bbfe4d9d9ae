// "Reconnect": signing a connection in again through the browser, and recording a key connection
// given its new key (so its card says so wherever that happened). Kept outside the components so
// a connection card and the attention banner share one attempt per connection (both show it as
// waiting), and so an attempt outlives switching screens. Rust opens the browser and waits.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { ConnectionView } from "../bindings/ConnectionView";
import { needsAccountChoice } from "../connections/oauth";

/** Where a Reconnect was started; that place shows what comes after it (errors, questions). */
export type ReconnectPlace = "card" | "banner";

export interface ReconnectAttempt {
  running: boolean;
  place: ReconnectPlace;
  /** The organisation asked for, if any (kept for "switch" and for a retry). */
  account: string | null;
  /** The user chose another organisation or company than the connection's (`conflict`). */
  conflict: ApiError | null;
  /** The sign-in reaches several organisations and none is the connection's: name one. */
  chooseAccount: ApiError | null;
  /** Anything else that went wrong. */
  error: ApiError | null;
  /** It worked. */
  done: boolean;
}

export interface ReconnectOptions {
  account?: string | null;
  switchAccount?: boolean;
  /** Also ask for the permissions a feature needs (an incremental grant, `post_to_ledger`). */
  feature?: string | null;
  /**
   * The app registration's client secret, typed again after a disconnect (which forgets it);
   * sent once and never kept here.
   */
  clientSecret?: string | null;
}

export class ReconnectState {
  byId = $state<Record<string, ReconnectAttempt>>({});

  constructor(private readonly onreconnected: (connection: ConnectionView) => void) {}

  of(connectionId: string): ReconnectAttempt | undefined {
    return this.byId[connectionId];
  }

  isRunning(connectionId: string): boolean {
    return this.byId[connectionId]?.running === true;
  }

  async reconnect(connectionId: string, place: ReconnectPlace, options: ReconnectOptions = {}): Promise<void> {
    if (this.isRunning(connectionId)) return;
    const account = options.account?.trim() || null;
    this.byId[connectionId] = {
      running: true,
      place,
      account,
      conflict: null,
      chooseAccount: null,
      error: null,
      done: false,
    };
    const entry = this.byId[connectionId]!;
    try {
      const connection = await api.reconnectConnection({
        connection_id: connectionId,
        client_secret: options.clientSecret?.trim() || null,
        account,
        switch_account: options.switchAccount === true,
        feature: options.feature ?? null,
      });
      entry.done = true;
      this.onreconnected(connection);
    } catch (e) {
      const error = toApiError(e);
      if (error.code === "conflict") entry.conflict = error;
      else if (needsAccountChoice(error)) entry.chooseAccount = error;
      else entry.error = error;
    } finally {
      entry.running = false;
    }
  }

  /**
   * A connection was reconnected some other way (a key connection given its new key in a
   * dialog): record it as done where it was started, and replace the connection's old self.
   */
  reconnected(connection: ConnectionView, place: ReconnectPlace): void {
    this.byId[connection.id] = {
      running: false,
      place,
      account: null,
      conflict: null,
      chooseAccount: null,
      error: null,
      done: true,
    };
    this.onreconnected(connection);
  }

  /** Forgets an attempt's outcome (the user cancelled the question or closed the notice). */
  dismiss(connectionId: string): void {
    delete this.byId[connectionId];
  }

  reset(): void {
    this.byId = {};
  }
}
