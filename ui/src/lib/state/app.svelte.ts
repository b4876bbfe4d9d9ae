// Workspace-wide state: which workspace is open, its connections (with their health, the
// provider catalogue and any Reconnect in progress, which the attention banner shares with the
// Connections screen), and a version that data screens watch to reload after anything that
// changes synced data.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { ConnectionView } from "../bindings/ConnectionView";
import type { NetworkStatusView } from "../bindings/NetworkStatusView";
import type { ProviderInfo } from "../bindings/ProviderInfo";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";
import { HealthState } from "./health.svelte";
import { ReconnectState } from "./reconnect.svelte";

export class AppState {
  workspace = $state<WorkspaceInfo | null>(null);
  workspaceError = $state<ApiError | null>(null);
  connections = $state.raw<ConnectionView[]>([]);
  connectionsLoaded = $state(false);
  connectionsError = $state<ApiError | null>(null);
  leavingDemo = $state(false);
  leaveDemoError = $state<ApiError | null>(null);
  /** Bumped whenever synced data may have changed; data screens reload when it changes. */
  dataVersion = $state(0);
  /** What the background scheduler last learned about the network (`null`: not known yet). */
  network = $state<NetworkStatusView | null>(null);
  /** The provider catalogue, once loaded (it tells which connections sign in through OAuth). */
  providers = $state.raw<ProviderInfo[] | null>(null);
  /** Every connection's health (sign-in state, circuit, budget), loaded with the connections. */
  readonly health = new HealthState();
  /** Reconnects in progress or just finished; a reconnected connection replaces its old self. */
  readonly reconnects = new ReconnectState((connection) => this.connectionChanged(connection));
  private providersLoading: Promise<void> | null = null;

  async loadWorkspace(): Promise<void> {
    this.workspaceError = null;
    try {
      this.workspace = await api.getWorkspace();
    } catch (error) {
      this.workspaceError = toApiError(error);
    }
  }

  async loadConnections(): Promise<void> {
    this.connectionsError = null;
    try {
      this.connections = await api.listConnections();
    } catch (error) {
      this.connectionsError = toApiError(error);
    } finally {
      this.connectionsLoaded = true;
    }
  }

  async init(): Promise<void> {
    await Promise.all([
      this.loadWorkspace(),
      this.loadConnections(),
      this.loadProviders(),
      this.watchBackground(),
    ]);
  }

  /**
   * Loads the provider catalogue once. Advisory: without it, connections simply offer no
   * Reconnect (the Add connection dialog loads and reports its own copy).
   */
  loadProviders(): Promise<void> {
    if (this.providers) return Promise.resolve();
    this.providersLoading ??= api
      .listProviders()
      .then((providers) => {
        this.providers = providers;
      })
      .catch(() => {})
      .finally(() => {
        this.providersLoading = null;
      });
    return this.providersLoading;
  }

  providerOf(key: string): ProviderInfo | undefined {
    return this.providers?.find((p) => p.key === key);
  }

  /** Whether a connection signs in through the browser, so Reconnect can renew it. */
  signsInWithOAuth(connection: ConnectionView): boolean {
    return this.providerOf(connection.provider)?.oauth != null;
  }

  /** Follows the background scheduler: its runs refresh the data, its network checks the banner. */
  private async watchBackground(): Promise<void> {
    try {
      await api.onScheduledSync(() => void this.dataChanged());
      await api.onNetworkStatus((status) => (this.network = status));
      this.network = await api.getNetworkStatus();
    } catch {
      // Only the offline banner and live refresh depend on this; the screens work without it.
    }
  }

  /** Something changed synced data: refresh the connection cards and every data screen. */
  async dataChanged(): Promise<void> {
    this.dataVersion += 1;
    await this.loadConnections();
  }

  connectionAdded(connection: ConnectionView): void {
    this.connections = [...this.connections.filter((c) => c.id !== connection.id), connection];
  }

  /** A connection was saved (e.g. its schedule): replace it where it is. */
  connectionChanged(connection: ConnectionView): void {
    this.connections = this.connections.map((c) => (c.id === connection.id ? connection : c));
  }

  /** A connection was deleted with its data: drop its card and reload every data screen. */
  connectionRemoved(connectionId: string): void {
    this.connections = this.connections.filter((c) => c.id !== connectionId);
    this.reconnects.dismiss(connectionId);
    this.dataVersion += 1;
  }

  /** Switches to the real workspace, then reloads everything from it. */
  async leaveDemo(): Promise<boolean> {
    this.leavingDemo = true;
    this.leaveDemoError = null;
    try {
      this.workspace = await api.leaveDemo();
      this.connections = [];
      // The demo's connection ids mean nothing in the real workspace.
      this.health.reset();
      this.reconnects.reset();
      this.connectionsLoaded = false;
      await this.dataChanged();
      return true;
    } catch (error) {
      this.leaveDemoError = toApiError(error);
      return false;
    } finally {
      this.leavingDemo = false;
    }
  }
}
