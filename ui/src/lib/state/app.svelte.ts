// Workspace-wide state: which workspace is open, its connections, and a version that data
// screens watch to reload after anything that changes synced data.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { ConnectionView } from "../bindings/ConnectionView";
import type { NetworkStatusView } from "../bindings/NetworkStatusView";
import type { WorkspaceInfo } from "../bindings/WorkspaceInfo";

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
    await Promise.all([this.loadWorkspace(), this.loadConnections(), this.watchBackground()]);
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

  /** Switches to the real workspace, then reloads everything from it. */
  async leaveDemo(): Promise<boolean> {
    this.leavingDemo = true;
    this.leaveDemoError = null;
    try {
      this.workspace = await api.leaveDemo();
      this.connections = [];
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
