import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ConnectionHealthView } from "../bindings/ConnectionHealthView";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { connection, health } from "../../test/fixtures";
import { callsOf, deferred, mockCommands } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

function setup() {
  const app = new AppState();
  app.connections = [connection()];
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  render(ConnectionsView, { app, syncs, onrequests: () => {} });
}

const healthView = (c: ConnectionHealthView) => ({
  checked_at: "2024-05-01T10:06:00Z",
  needs_attention: c.needs_attention,
  connections: [c],
});

describe("connection health", () => {
  it("shows a paused circuit with its retry time and the daily budget left", async () => {
    mockCommands({
      get_health: () =>
        healthView(
          health({
            circuit: "open",
            consecutive_failures: 5,
            circuit_retry_at: "2024-05-01T10:30:00Z",
            needs_attention: true,
            budget: {
              limits: { per_second: null, per_minute: 60, per_day: 5000, concurrent: 5 },
              overridden: false,
              daily_reset: "rolling_24h",
              daily_used: 679,
              daily_left: 4321,
              daily_resets_at: "2024-05-02T09:00:00Z",
            },
          }),
        ),
    });
    setup();
    const card = screen.getByTestId("connection-card");
    const circuit = await within(card).findByTestId("circuit-state");
    expect(circuit.textContent).toContain("Paused");
    expect(circuit.textContent).toContain("retrying at");
    expect(circuit.querySelector("time")?.getAttribute("title")).toBe("2024-05-01 10:30:00 UTC");
    expect(within(card).getByTestId("daily-budget").textContent).toContain("4,321 of 5,000 requests left");
  });

  it("shows an OAuth sign-in that must be renewed, and when", async () => {
    mockCommands({
      get_health: () =>
        healthView(
          health({ token: "expiring", token_lapses_at: "2024-05-10T12:00:00Z", needs_attention: true }),
        ),
    });
    setup();
    const card = screen.getByTestId("connection-card");
    const token = await within(card).findByTestId("token-state");
    expect(token.textContent).toContain("Renew soon");
    expect(token.textContent).toContain("renew by");
    expect(token.querySelector("time")?.getAttribute("title")).toBe("2024-05-10 12:00:00 UTC");
  });

  it("shows nothing extra while the circuit is closed and there is no daily budget", async () => {
    const calls = mockCommands({ get_health: () => healthView(health()) });
    setup();
    await waitFor(() => expect(callsOf(calls, "get_health")).toHaveLength(1));
    const card = screen.getByTestId("connection-card");
    expect(within(card).queryByTestId("circuit-state")).toBeNull();
    expect(within(card).queryByTestId("daily-budget")).toBeNull();
    expect(within(card).queryByTestId("token-state")).toBeNull();
  });

  it("says when the next request is a trial", async () => {
    mockCommands({ get_health: () => healthView(health({ circuit: "half_open", needs_attention: true })) });
    setup();
    const circuit = await screen.findByTestId("circuit-state");
    expect(circuit.textContent).toContain("Testing");
  });

  it("tests the connection and shows the result and the new health", async () => {
    const answer = deferred<unknown>();
    const calls = mockCommands({
      get_health: () => healthView(health({ circuit: "open", circuit_retry_at: "2024-05-01T10:30:00Z" })),
      test_connection: () => answer.promise,
    });
    setup();
    const card = screen.getByTestId("connection-card");
    await within(card).findByTestId("circuit-state");
    const button = within(card).getByTestId("connection-test");
    await fireEvent.click(button);
    expect(callsOf(calls, "test_connection")).toEqual([{ connectionId: "conn-1" }]);
    await waitFor(() => expect(button.hasAttribute("disabled")).toBe(true));
    expect(button.textContent).toContain("Testing…");
    answer.resolve({ ok: true, at: "2024-05-01T10:31:00Z", duration_ms: 42, error: null, health: health() });
    const result = await within(card).findByTestId("test-result");
    expect(result.textContent).toContain("Connection OK (42 ms)");
    await waitFor(() => expect(within(card).queryByTestId("circuit-state")).toBeNull());
    expect(button.hasAttribute("disabled")).toBe(false);
  });

  it("shows why a test failed", async () => {
    mockCommands({
      get_health: () => healthView(health()),
      test_connection: () => ({
        ok: false,
        at: "2024-05-01T10:31:00Z",
        duration_ms: 3,
        error: { code: "circuit_open", message: "Requests to Stripe are paused.", retryable: true },
        health: health({ circuit: "open", circuit_retry_at: "2024-05-01T10:32:00Z" }),
      }),
    });
    setup();
    const card = screen.getByTestId("connection-card");
    await fireEvent.click(within(card).getByTestId("connection-test"));
    const result = await within(card).findByTestId("test-result");
    expect(result.textContent).toContain("Test failed: Requests to Stripe are paused.");
    expect((await within(card).findByTestId("circuit-state")).textContent).toContain("Paused");
  });

  it("keeps the cards when health cannot be loaded", async () => {
    const calls = mockCommands({ get_health: () => Promise.reject({ code: "storage", message: "busy", retryable: true }) });
    setup();
    await waitFor(() => expect(callsOf(calls, "get_health")).toHaveLength(1));
    const card = screen.getByTestId("connection-card");
    expect(card.textContent).toContain("Demo shop");
    expect(within(card).queryByTestId("circuit-state")).toBeNull();
  });
});
