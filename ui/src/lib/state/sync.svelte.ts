// Running syncs and their live progress, kept outside the screens so that progress survives
// switching screens. The Rust side does the work; this only records what it streams back.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { SyncProgress } from "../bindings/SyncProgress";
import type { SyncRunView } from "../bindings/SyncRunView";

export interface ConnectionSync {
  running: boolean;
  /** Latest progress per stream, in the order streams started. */
  streams: SyncProgress[];
  /** The runs of the last finished sync in this session. */
  runs: SyncRunView[] | null;
  error: ApiError | null;
}

export class SyncState {
  byConnection = $state<Record<string, ConnectionSync>>({});
  allRunning = $state(false);
  allError = $state<ApiError | null>(null);

  constructor(private readonly onFinished: () => void | Promise<void>) {}

  get anyRunning(): boolean {
    return this.allRunning || Object.values(this.byConnection).some((s) => s.running);
  }

  isRunning(connectionId: string): boolean {
    return this.allRunning || this.byConnection[connectionId]?.running === true;
  }

  of(connectionId: string): ConnectionSync | undefined {
    return this.byConnection[connectionId];
  }

  private entry(connectionId: string): ConnectionSync {
    let entry = this.byConnection[connectionId];
    if (!entry) {
      this.byConnection[connectionId] = { running: true, streams: [], runs: null, error: null };
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
    } else {
      if (this.isRunning(connectionId)) return;
      this.byConnection[connectionId] = { running: true, streams: [], runs: null, error: null };
    }
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
      if (connectionId === null) this.allRunning = false;
      for (const entry of Object.values(this.byConnection)) {
        if (connectionId === null || entry === this.byConnection[connectionId]) entry.running = false;
      }
      await this.onFinished();
    }
  }

  reset(): void {
    this.byConnection = {};
    this.allError = null;
  }
}
