// Connection health (circuit breaker, rate budget, last success and error) and the outcome of
// "Test connection", per connection id. Everything shown is computed on the Rust side.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { ConnectionHealthView } from "../bindings/ConnectionHealthView";
import type { ConnectionTestView } from "../bindings/ConnectionTestView";

export interface ConnectionTest {
  running: boolean;
  result: ConnectionTestView | null;
  /** The command itself failed (not the provider call, which `result` reports). */
  error: ApiError | null;
}

export class HealthState {
  byId = $state.raw<Record<string, ConnectionHealthView>>({});
  tests = $state<Record<string, ConnectionTest>>({});
  /** Health is advisory: a failure to load it leaves the cards as they are. */
  loadError = $state<ApiError | null>(null);

  of(connectionId: string): ConnectionHealthView | undefined {
    return this.byId[connectionId];
  }

  /** Calls made together (the banner and the Connections screen watch the same list) share one load. */
  private pending: Promise<void> | null = null;
  /** Only the latest load may show its answer. */
  private loads = 0;

  load(): Promise<void> {
    this.pending ??= Promise.resolve().then(() => {
      this.pending = null;
      return this.fetch();
    });
    return this.pending;
  }

  private async fetch(): Promise<void> {
    const load = ++this.loads;
    try {
      const view = await api.getHealth();
      if (load !== this.loads) return;
      this.byId = Object.fromEntries(view.connections.map((c) => [c.connection_id, c]));
      this.loadError = null;
    } catch (error) {
      if (load === this.loads) this.loadError = toApiError(error);
    }
  }

  reset(): void {
    this.loads += 1;
    this.byId = {};
    this.tests = {};
    this.loadError = null;
  }

  async test(connectionId: string): Promise<void> {
    this.tests[connectionId] = { running: true, result: null, error: null };
    try {
      const result = await api.testConnection(connectionId);
      // Newer than any load still in flight: that one must not put the old health back.
      this.loads += 1;
      this.byId = { ...this.byId, [connectionId]: result.health };
      this.tests[connectionId] = { running: false, result, error: null };
    } catch (error) {
      this.tests[connectionId] = { running: false, result: null, error: toApiError(error) };
    }
  }
}
