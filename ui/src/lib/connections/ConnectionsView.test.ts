import type { Channel } from "@tauri-apps/api/core";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { SyncProgress } from "../bindings/SyncProgress";
import type { SyncRunView } from "../bindings/SyncRunView";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { connection, paypal, run, stripe } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

const KEY = "rk_test_51SecretKeyThatMustNeverShow";

function setup(connections = [connection()]) {
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  render(ConnectionsView, { app, syncs, onrequests: () => {} });
  return { app, syncs };
}

async function openStripeDialog() {
  await fireEvent.click(screen.getByTestId("add-connection"));
  await fireEvent.click(await screen.findByTestId("provider-stripe"));
  return screen.getByTestId("stripe-dialog");
}

async function fill(name: string, key: string, apiBase?: string) {
  await fireEvent.input(screen.getByTestId("stripe-name"), { target: { value: name } });
  await fireEvent.input(screen.getByTestId("stripe-key"), { target: { value: key } });
  if (apiBase !== undefined) {
    await fireEvent.click(screen.getByTestId("advanced-toggle"));
    await fireEvent.input(screen.getByTestId("stripe-api-base"), { target: { value: apiBase } });
  }
}

function keyIsNowhere() {
  expect(document.body.innerHTML).not.toContain(KEY);
  for (const input of document.querySelectorAll("input")) expect(input.value).not.toContain(KEY);
}

describe("connections", () => {
  it("explains the next step to a new user", async () => {
    mockCommands({ list_providers: () => [stripe, paypal] });
    setup([]);
    const empty = screen.getByTestId("connections-empty");
    expect(empty.textContent).toContain("Add your first connection");
    await fireEvent.click(within(empty).getByRole("button", { name: "Add your first connection" }));
    expect(await screen.findByTestId("provider-picker")).toBeTruthy();
  });

  it("shows a card per connection with its status and payment count", () => {
    mockCommands({});
    setup([connection({ last_error: "Stripe rejected the API key." })]);
    const card = screen.getByTestId("connection-card");
    expect(card.dataset.connectionName).toBe("Demo shop");
    expect(card.textContent).toContain("Connected");
    expect(card.textContent).toContain("acct_123");
    expect(within(card).getByTestId("payment-count").textContent).toBe("3,000");
    expect(card.textContent).toContain("Stripe rejected the API key.");
    expect(card.querySelector("time")?.getAttribute("title")).toBe("2024-05-01 10:05:00 UTC");
  });

  it("lists providers, offering only the available ones", async () => {
    mockCommands({ list_providers: () => [stripe, { ...paypal, available: false }] });
    setup();
    await fireEvent.click(screen.getByTestId("add-connection"));
    const picker = await screen.findByTestId("provider-picker");
    expect(within(picker).getByTestId("provider-stripe")).toBeTruthy();
    expect(within(picker).queryByTestId("provider-paypal")).toBeNull();
    expect(picker.textContent).toContain("PayPal");
    expect(picker.textContent).toContain("Coming soon");
  });

  it("adds a Stripe connection, forgets the key, and starts its first sync with progress", async () => {
    const created = connection({ id: "conn-9", name: "Online shop", last_sync_at: null, payment_count: 0 });
    const sync = deferred<SyncRunView[]>();
    let channel: Channel<SyncProgress> | undefined;
    const calls = mockCommands({
      list_providers: () => [stripe, paypal],
      add_stripe_connection: () => created,
      sync_connection: (args) => {
        channel = args.onProgress as Channel<SyncProgress>;
        return sync.promise;
      },
      list_connections: () => [{ ...created, payment_count: 120, last_sync_at: "2024-05-01T10:06:00Z" }],
    });
    setup([]);

    await openStripeDialog();
    const key = screen.getByTestId("stripe-key") as HTMLInputElement;
    expect(key.type).toBe("password");
    expect(key.getAttribute("autocomplete")).toBe("off");
    await fill("Online shop", KEY, "http://127.0.0.1:12111");
    await fireEvent.click(screen.getByTestId("stripe-submit"));

    await waitFor(() => expect(screen.queryByTestId("stripe-dialog")).toBeNull());
    expect(callsOf(calls, "add_stripe_connection")).toEqual([
      { input: { name: "Online shop", api_key: KEY, api_base: "http://127.0.0.1:12111" } },
    ]);
    keyIsNowhere();

    const card = await screen.findByTestId("connection-card");
    expect(card.dataset.connectionName).toBe("Online shop");
    await waitFor(() => expect(channel).toBeDefined());
    expect(callsOf(calls, "sync_connection")[0]!.connectionId).toBe("conn-9");

    channel!.onmessage({ connection_id: "conn-9", stream: "charges", pages: 2, fetched: 120, done: false });
    await waitFor(() => expect(card.textContent).toContain("120 fetched, page 2"));
    expect(within(card).getByTestId("sync-now").hasAttribute("disabled")).toBe(true);

    sync.resolve([run({ connection_id: "conn-9", connection: "Online shop" })]);
    const summary = await within(card).findByTestId("sync-summary");
    expect(summary.textContent).toContain("Charges");
    expect(summary.textContent).toContain("Succeeded");
    // The cards reload after the sync, with the new count.
    await waitFor(() => expect(within(card).getByTestId("payment-count").textContent).toBe("120"));
    keyIsNowhere();
  });

  it("shows Stripe's auth failure inline, clears the key, and stays open", async () => {
    const calls = mockCommands({
      list_providers: () => [stripe],
      add_stripe_connection: () =>
        Promise.reject({
          code: "auth_failed",
          message: "Stripe rejected the API key. Check that you copied the whole key.",
          retryable: false,
        }),
    });
    setup([]);

    const dialog = await openStripeDialog();
    await fill("Online shop", KEY);
    await fireEvent.click(screen.getByTestId("stripe-submit"));

    const error = await within(dialog).findByTestId("stripe-error");
    expect(error.getAttribute("role")).toBe("alert");
    expect(error.dataset.errorCode).toBe("auth_failed");
    expect(error.textContent).toContain("Stripe rejected the API key.");
    const key = screen.getByTestId("stripe-key") as HTMLInputElement;
    expect(key.value).toBe("");
    expect(key.getAttribute("aria-invalid")).toBe("true");
    expect(callsOf(calls, "add_stripe_connection")).toHaveLength(1);
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
    keyIsNowhere();
  });

  it("says it is checking the key while Stripe answers", async () => {
    const answer = deferred<unknown>();
    mockCommands({ list_providers: () => [stripe], add_stripe_connection: () => answer.promise });
    setup([]);
    await openStripeDialog();
    await fill("Online shop", KEY);
    await fireEvent.click(screen.getByTestId("stripe-submit"));
    expect((await screen.findByRole("status")).textContent).toContain("Checking the key with Stripe…");
    answer.reject({ code: "network", message: "Could not reach Stripe.", retryable: true });
    expect((await screen.findByTestId("stripe-error")).textContent).toContain("Could not reach Stripe.");
  });

  it("Esc closes the dialog", async () => {
    mockCommands({ list_providers: () => [stripe] });
    setup();
    await openStripeDialog();
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("stripe-dialog")).toBeNull();
  });

  it("syncs all connections and routes progress to each card", async () => {
    const sync = deferred<SyncRunView[]>();
    let channel: Channel<SyncProgress> | undefined;
    const calls = mockCommands({
      sync_connection: (args) => {
        channel = args.onProgress as Channel<SyncProgress>;
        return sync.promise;
      },
      list_connections: () => [connection(), connection({ id: "conn-2", name: "Second shop" })],
    });
    setup([connection(), connection({ id: "conn-2", name: "Second shop" })]);

    await fireEvent.click(screen.getByTestId("sync-all"));
    expect(callsOf(calls, "sync_connection")[0]!.connectionId).toBeNull();
    channel!.onmessage({ connection_id: "conn-2", stream: "refunds", pages: 1, fetched: 7, done: true });

    const second = screen
      .getAllByTestId("connection-card")
      .find((c) => c.dataset.connectionName === "Second shop")!;
    await waitFor(() => expect(second.textContent).toContain("7 fetched, page 1"));

    sync.reject({ code: "network", message: "Could not reach Stripe. Check your connection.", retryable: true });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Could not reach Stripe.");
    expect(within(alert).getByRole("button", { name: "Retry" })).toBeTruthy();
  });

  describe("cancelling a sync", () => {
    const CANCELLED_MESSAGE = "Cancelled; the next sync continues from the last saved page.";
    const cancelledRun = (overrides: Partial<SyncRunView> = {}) =>
      run({
        id: "run-2",
        stream: "refunds",
        status: "cancelled",
        fetched: 40,
        error_code: "cancelled",
        error_message: CANCELLED_MESSAGE,
        ...overrides,
      });

    /** A sync that streams over a channel and answers when the test says so. */
    function syncing(handlers: Record<string, Handler> = {}) {
      const sync = deferred<SyncRunView[]>();
      const progress: { channel?: Channel<SyncProgress> } = {};
      const calls = mockCommands({
        sync_connection: (args) => {
          progress.channel = args.onProgress as Channel<SyncProgress>;
          return sync.promise;
        },
        cancel_sync: () => null,
        list_connections: () => [connection()],
        ...handlers,
      });
      return { sync, progress, calls };
    }

    it("cancels a connection's sync, says so until it answers, then shows the run as cancelled", async () => {
      const { sync, progress, calls } = syncing();
      setup();
      const card = screen.getByTestId("connection-card");
      expect(within(card).queryByTestId("sync-cancel")).toBeNull();

      await fireEvent.click(within(card).getByTestId("sync-now"));
      await waitFor(() => expect(progress.channel).toBeDefined());
      progress.channel!.onmessage({ connection_id: "conn-1", stream: "refunds", pages: 1, fetched: 40, done: false });
      await waitFor(() => expect(card.textContent).toContain("40 fetched, page 1"));

      const cancel = within(card).getByRole("button", { name: "Cancel sync of Demo shop" });
      expect(cancel.textContent?.trim()).toBe("Cancel");
      // Esc is not a way to cancel a sync.
      await fireEvent.keyDown(window, { key: "Escape" });
      expect(callsOf(calls, "cancel_sync")).toHaveLength(0);

      await fireEvent.click(cancel);
      expect(callsOf(calls, "cancel_sync")).toEqual([{ connectionId: "conn-1" }]);
      await waitFor(() => expect(cancel.textContent?.trim()).toBe("Cancelling…"));
      expect(cancel.hasAttribute("disabled")).toBe(true);
      expect(card.textContent).toContain("Cancelling after the page in hand…");
      expect(within(card).getByTestId("sync-now").hasAttribute("disabled")).toBe(true);
      // A second click cannot ask again.
      await fireEvent.click(cancel);
      expect(callsOf(calls, "cancel_sync")).toHaveLength(1);

      sync.resolve([run(), cancelledRun()]);
      const summary = await within(card).findByTestId("sync-summary");
      const chips = [...summary.querySelectorAll<HTMLElement>(".chip")];
      expect(chips.map((c) => c.textContent)).toEqual(["Succeeded", "Cancelled"]);
      expect(chips[1]!.classList.contains("neutral")).toBe(true);
      expect(within(card).getByTestId("sync-cancelled-note").textContent).toBe(
        "Cancelled — the next sync continues from the last saved page.",
      );
      // Not an error: no red chip, no error row, no alert, and the card is ready to sync again.
      expect(card.querySelector(".chip.bad")).toBeNull();
      expect(summary.querySelector(".run-error")).toBeNull();
      expect(screen.queryByRole("alert")).toBeNull();
      expect(within(card).queryByTestId("sync-cancel")).toBeNull();
      const again = within(card).getByTestId("sync-now");
      expect(again.hasAttribute("disabled")).toBe(false);
      expect(again.textContent?.trim()).toBe("Sync now");
      expect(callsOf(calls, "cancel_sync")).toHaveLength(1);
    });

    it("cancels Sync all with a null connection id", async () => {
      const second = connection({ id: "conn-2", name: "Second shop" });
      const { sync, progress, calls } = syncing({ list_connections: () => [connection(), second] });
      setup([connection(), second]);

      expect(screen.queryByTestId("sync-all-cancel")).toBeNull();
      await fireEvent.click(screen.getByTestId("sync-all"));
      await waitFor(() => expect(progress.channel).toBeDefined());
      progress.channel!.onmessage({ connection_id: "conn-1", stream: "refunds", pages: 1, fetched: 40, done: false });

      const cancel = await screen.findByRole("button", { name: "Cancel sync of all connections" });
      await fireEvent.click(cancel);
      expect(callsOf(calls, "cancel_sync")).toEqual([{ connectionId: null }]);
      await waitFor(() => expect(cancel.textContent?.trim()).toBe("Cancelling…"));
      expect(cancel.hasAttribute("disabled")).toBe(true);
      // Every card's own Cancel says the same.
      for (const button of screen.getAllByTestId("sync-cancel")) {
        expect(button.textContent?.trim()).toBe("Cancelling…");
        expect(button.hasAttribute("disabled")).toBe(true);
      }

      // The first connection stopped mid-stream; the second never started.
      sync.resolve([run(), cancelledRun()]);
      const first = screen
        .getAllByTestId("connection-card")
        .find((c) => c.dataset.connectionName === "Demo shop")!;
      expect((await within(first).findByTestId("sync-cancelled-note")).textContent).toContain(
        "the next sync continues from the last saved page",
      );
      await waitFor(() => expect(screen.queryByTestId("sync-all-cancel")).toBeNull());
      expect(screen.queryAllByTestId("sync-cancel")).toHaveLength(0);
      expect(screen.getByTestId("sync-all").textContent?.trim()).toBe("Sync all");
      expect(screen.queryByRole("alert")).toBeNull();
      expect(document.querySelector(".chip.bad")).toBeNull();
    });

    it("offers Cancel again when the request could not be sent", async () => {
      const { sync, progress, calls } = syncing({
        cancel_sync: () => Promise.reject({ code: "internal", message: "Could not ask the sync to stop.", retryable: true }),
      });
      setup();
      const card = screen.getByTestId("connection-card");
      await fireEvent.click(within(card).getByTestId("sync-now"));
      await waitFor(() => expect(progress.channel).toBeDefined());

      await fireEvent.click(within(card).getByRole("button", { name: "Cancel sync of Demo shop" }));
      const alert = await screen.findByRole("alert");
      expect(alert.textContent).toContain("Could not ask the sync to stop.");
      const cancel = within(card).getByTestId("sync-cancel");
      expect(cancel.textContent?.trim()).toBe("Cancel");
      expect(cancel.hasAttribute("disabled")).toBe(false);

      await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
      expect(callsOf(calls, "cancel_sync")).toEqual([{ connectionId: "conn-1" }, { connectionId: "conn-1" }]);

      sync.resolve([run()]);
      await within(card).findByTestId("sync-summary");
      await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());
    });
  });
});
