// Running syncs and their live progress, kept outside the screens so that progress survives
// switching screens. The Rust side does the work; this only records what it streams back.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { SyncProgress } from "../bindings/SyncProgress";
import type { SyncRunView } from "../bindings/SyncRunView";

export interface ConnectionSync {
  running: boolean;
  /** A cancel was asked for and the sync has not answered yet. */
  cancelling: boolean;
  /** Latest progress per stream, in the order streams started. */
  streams: SyncProgress[];
  /** The runs of the last finished sync in this session. */
  runs: SyncRunView[] | null;
  error: ApiError | null;
}

function fresh(): ConnectionSync {
  return { running: true, cancelling: false, streams: [], runs: null, error: null };
}

export class SyncState {
  byConnection = $state<Record<string, ConnectionSync>>({});
  allRunning = $state(false);
  allError = $state<ApiError | null>(null);
  /** "Cancel" of "Sync all" was asked for and the sync has not answered yet. */
  allCancelling = $state(false);
  /** A cancel that could not be sent: which sync (null: all) and why. */
  cancelError = $state<{ connectionId: string | null; error: ApiError } | null>(null);

  constructor(private readonly onFinished: () => void | Promise<void>) {}

  get anyRunning(): boolean {
    return this.allRunning || Object.values(this.byConnection).some((s) => s.running);
  }

  isRunning(connectionId: string): boolean {
    return this.allRunning || this.byConnection[connectionId]?.running === true;
  }

  isCancelling(connectionId: string): boolean {
    return this.allCancelling || this.byConnection[connectionId]?.cancelling === true;
  }

  of(connectionId: string): ConnectionSync | undefined {
    return this.byConnection[connectionId];
  }

  private entry(connectionId: string): ConnectionSync {
    let entry = this.byConnection[connectionId];
    if (!entry) {
      this.byConnection[connectionId] = fresh();
      entry = this.byConnection[connectionId]!;
    }
    return entry;
  }

  private progress(event: SyncProgress): void {
    const entry = this.entry(event.connection_id);
    entry.running = true;
    const index = entry.streams.findIndex((s) => s.stream === event.stream);
    if (index === -1) entry.streams.push(event);
    else entry.streams[index] = event;
  }

  /** Syncs one connection, or every connection when `connectionId` is null. */
  async sync(connectionId: string | null): Promise<void> {
    if (connectionId === null) {
      if (this.allRunning) return;
      this.allRunning = true;
      this.allError = null;
      this.allCancelling = false;
    } else {
      if (this.isRunning(connectionId)) return;
      this.byConnection[connectionId] = fresh();
    }
    if (this.cancelError?.connectionId === connectionId) this.cancelError = null;
    try {
      const runs = await api.syncConnection(connectionId, (event) => this.progress(event));
      const ids = new Set(runs.map((r) => r.connection_id));
      if (connectionId !== null) ids.add(connectionId);
      for (const id of ids) {
        const entry = this.entry(id);
        entry.runs = runs.filter((r) => r.connection_id === id);
        entry.running = false;
        entry.error = null;
      }
    } catch (error) {
      const failure = toApiError(error);
      if (connectionId === null) this.allError = failure;
      else this.entry(connectionId).error = failure;
    } finally {
      if (connectionId === null) {
        this.allRunning = false;
        this.allCancelling = false;
      }
      for (const entry of Object.values(this.byConnection)) {
        if (connectionId === null || entry === this.byConnection[connectionId]) {
          entry.running = false;
          entry.cancelling = false;
        }
      }
      if (!this.anyRunning || this.cancelError?.connectionId === connectionId) this.cancelError = null;
      await this.onFinished();
    }
  }

  /**
   * Asks a running sync of one connection, or every running sync when `connectionId` is null, to
   * stop after the page in hand. The sync itself then answers as usual (its interrupted run
   * `cancelled`); until it does, the sync is shown as cancelling.
   */
  async cancel(connectionId: string | null): Promise<void> {
    if (connectionId === null) {
      if (!this.anyRunning || this.allCancelling) return;
      if (this.allRunning) this.allCancelling = true;
      for (const entry of Object.values(this.byConnection)) if (entry.running) entry.cancelling = true;
    } else {
      if (!this.isRunning(connectionId) || this.isCancelling(connectionId)) return;
      this.entry(connectionId).cancelling = true;
    }
    this.cancelError = null;
    try {
      await api.cancelSync(connectionId);
    } catch (error) {
      // Nothing was asked of the sync: it runs on, so offer the button again.
      if (connectionId === null) {
        this.allCancelling = false;
        for (const entry of Object.values(this.byConnection)) entry.cancelling = false;
      } else {
        const entry = this.byConnection[connectionId];
        if (entry) entry.cancelling = false;
      }
      if (connectionId === null ? this.anyRunning : this.isRunning(connectionId)) {
        this.cancelError = { connectionId, error: toApiError(error) };
      }
    }
  }

  reset(): void {
    this.byConnection = {};
    this.allError = null;
    this.allCancelling = false;
    this.cancelError = null;
  }
}
