import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import AttentionBanner from "../components/AttentionBanner.svelte";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { connection, paypal, run, stripe, xero, xeroConnection } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

const KEY = "rk_test_51NewKeyThatMustNeverShow";
const OTHER_KEY = "rk_test_51KeyOfAnotherAccount";
const EXPLANATION =
  "Paste the connection's new secret or restricted key from the Stripe Dashboard (Developers → API keys). Its payments and history stay; the next sync picks up where it stopped.";
const CONFLICT =
  "These credentials reach account acct_999, but “Demo shop” is connected to acct_123. Nothing was changed. Use credentials of acct_123, connect acct_999 as a new connection, or switch “Demo shop” to it (its history stays).";

const dead = (overrides: Partial<ConnectionView> = {}) =>
  connection({ status: "needs_reconnect", last_error: "Stripe rejected the API key.", ...overrides });

function commands(handlers: Record<string, Handler> = {}) {
  return mockCommands({
    list_providers: () => [stripe, xero, paypal],
    get_health: () => ({ checked_at: "2024-05-01T10:06:00Z", needs_attention: false, connections: [] }),
    sync_connection: () => [run()],
    list_connections: () => [connection()],
    ...handlers,
  });
}

function state(connections: ConnectionView[]) {
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  return { app, syncs };
}

function setup(connections: ConnectionView[], handlers: Record<string, Handler> = {}) {
  const calls = commands(handlers);
  const { app, syncs } = state(connections);
  render(ConnectionsView, { app, syncs, onrequests: () => {} });
  return { calls, app };
}

/** Text as read, whitespace collapsed. */
const text = (element: Element) => element.textContent?.replace(/\s+/g, " ").trim() ?? "";

const card = (name: string) =>
  screen.getAllByTestId("connection-card").find((c) => c.dataset.connectionName === name)!;

const keyField = () => screen.getByTestId("key-reconnect-key") as HTMLInputElement;

async function paste(key: string) {
  await fireEvent.input(keyField(), { target: { value: key } });
  await fireEvent.click(screen.getByTestId("key-reconnect-submit"));
}

function keyIsNowhere(...keys: string[]) {
  for (const key of keys) {
    expect(document.body.innerHTML).not.toContain(key);
    for (const input of document.querySelectorAll("input")) expect(input.value).not.toContain(key);
  }
}

describe("reconnecting a Stripe connection with its new key", () => {
  it("offers Reconnect only on Stripe cards that need it or were disconnected", async () => {
    const { calls } = setup([
      connection({ id: "conn-ok", name: "Healthy shop" }),
      dead({ id: "conn-dead", name: "Dead shop" }),
      connection({ id: "conn-off", name: "Old shop", status: "disconnected" }),
      connection({ id: "conn-err", name: "Failing shop", status: "error" }),
      xeroConnection({ status: "needs_reconnect" }),
      connection({ id: "conn-pp", name: "PayPal shop", provider: "paypal", provider_name: "PayPal", status: "needs_reconnect" }),
    ]);
    await waitFor(() => expect(callsOf(calls, "list_providers")).toHaveLength(1));
    await waitFor(() => expect(callsOf(calls, "get_health")).toHaveLength(1));

    const button = within(card("Dead shop")).getByTestId("reconnect-key-conn-dead");
    expect(button.classList.contains("primary")).toBe(true);
    expect(button.getAttribute("aria-label")).toBe("Reconnect Dead shop with a new key…");
    expect(text(card("Dead shop"))).toContain("Stripe no longer accepts its key");
    expect(within(card("Old shop")).getByTestId("reconnect-key-conn-off")).toBeTruthy();

    expect(screen.getAllByTestId(/^reconnect-key-/)).toHaveLength(2);
    // A browser sign-in keeps its own Reconnect, not the key one.
    expect(await within(card("Books")).findByTestId("reconnect-conn-x")).toBeTruthy();
    expect(screen.queryByTestId("reconnect-key-conn-x")).toBeNull();
    expect(screen.queryByTestId("reconnect-conn-dead")).toBeNull();
  });

  it("names the connection, sends the new key once, forgets it, updates the card and syncs it", async () => {
    const answer = deferred<ConnectionView>();
    const { calls } = setup([dead()], { reconnect_with_key: () => answer.promise });
    const shop = card("Demo shop");
    await fireEvent.click(within(shop).getByTestId("reconnect-key-conn-1"));

    const dialog = screen.getByTestId("key-reconnect-dialog");
    expect(text(dialog)).toContain("Reconnect “Demo shop”");
    expect(text(within(dialog).getByTestId("key-reconnect-account"))).toBe("Stripe account: Acme Supplies acct_123");
    expect(text(dialog)).toContain(EXPLANATION);
    expect(keyField().type).toBe("password");
    expect(keyField().getAttribute("autocomplete")).toBe("off");
    await waitFor(() => expect(document.activeElement).toBe(keyField()));
    expect(screen.getByTestId("key-reconnect-submit").hasAttribute("disabled")).toBe(true);

    await paste(` ${KEY} `);
    expect(callsOf(calls, "reconnect_with_key")).toEqual([
      { input: { connection_id: "conn-1", api_key: KEY, switch_account: false } },
    ]);
    // The field is emptied at once, before Stripe answers.
    expect(keyField().value).toBe("");
    expect(within(dialog).getByRole("status").textContent).toContain("Checking the key with Stripe");
    keyIsNowhere(KEY);

    answer.resolve(connection({ status: "connected", last_error: null }));
    await waitFor(() => expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull());
    expect(text(shop)).toContain("Connected");
    expect(within(shop).queryByTestId("reconnect-key-conn-1")).toBeNull();
    expect(text(within(shop).getByTestId("reconnect-done-conn-1"))).toBe(
      "Reconnected to Acme Supplies with the new key.",
    );
    await waitFor(() => expect(callsOf(calls, "sync_connection")).toHaveLength(1));
    expect(callsOf(calls, "sync_connection")[0]!.connectionId).toBe("conn-1");
    keyIsNowhere(KEY);
  });

  it("brings a disconnected Stripe connection back with a new key", async () => {
    const { calls } = setup([connection({ status: "disconnected" })], {
      reconnect_with_key: () => connection(),
    });
    const shop = card("Demo shop");
    expect(within(shop).queryByTestId("sync-now")).toBeNull();
    await fireEvent.click(within(shop).getByTestId("reconnect-key-conn-1"));
    await paste(KEY);
    await waitFor(() => expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull());
    expect(within(shop).queryByTestId("disconnected-note")).toBeNull();
    expect(within(shop).getByTestId("sync-now")).toBeTruthy();
    await waitFor(() => expect(callsOf(calls, "sync_connection")).toHaveLength(1));
  });

  it("shows a rejected key, keeps the dialog open, and starts no sync", async () => {
    const { calls } = setup([dead()], {
      reconnect_with_key: () =>
        Promise.reject({
          code: "auth_failed",
          message: "Stripe rejected the API key. Check the key and paste it again.",
          retryable: false,
        }),
    });
    await fireEvent.click(screen.getByTestId("reconnect-key-conn-1"));
    await paste(KEY);

    const dialog = screen.getByTestId("key-reconnect-dialog");
    const alert = await within(dialog).findByRole("alert");
    expect(alert.dataset.errorCode).toBe("auth_failed");
    expect(alert.textContent).toContain("Check the key");
    expect(keyField().value).toBe("");
    expect(keyField().getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement).toBe(keyField()));
    expect(text(card("Demo shop"))).toContain("Needs reconnect");
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
    keyIsNowhere(KEY);

    // Cancel leaves everything as it was.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull();
    expect(callsOf(calls, "reconnect_with_key")).toHaveLength(1);
  });

  it("on a key of another account, offers the switch and sends switch_account after confirming", async () => {
    const { calls } = setup([dead()], {
      reconnect_with_key: (args) =>
        args.input.switch_account
          ? connection({ account_id: "acct_999", account_name: "Other Ltd" })
          : Promise.reject({ code: "conflict", message: CONFLICT, retryable: false }),
    });
    await fireEvent.click(screen.getByTestId("reconnect-key-conn-1"));
    await paste(OTHER_KEY);

    const dialog = screen.getByTestId("key-reconnect-dialog");
    const conflict = await within(dialog).findByTestId("key-reconnect-conflict");
    expect(conflict.getAttribute("role")).toBe("alert");
    expect(conflict.textContent).toContain("Nothing was changed.");
    expect(keyField().value).toBe("");

    // "Use it anyway" first says what switching means, and takes the key once more.
    await fireEvent.click(within(conflict).getByTestId("key-reconnect-switch"));
    const switching = within(dialog).getByTestId("key-reconnect-switching");
    expect(text(switching)).toContain("Switch “Demo shop” to the account this key reaches?");
    expect(text(switching)).toContain("keeps the payments and history it has now");
    expect(text(switching)).toContain("instead of Acme Supplies");
    expect(callsOf(calls, "reconnect_with_key")).toHaveLength(1);
    await waitFor(() => expect(document.activeElement).toBe(keyField()));
    expect(screen.getByTestId("key-reconnect-submit").textContent?.trim()).toBe("Switch and reconnect");

    await paste(OTHER_KEY);
    await waitFor(() => expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull());
    expect(callsOf(calls, "reconnect_with_key")).toEqual([
      { input: { connection_id: "conn-1", api_key: OTHER_KEY, switch_account: false } },
      { input: { connection_id: "conn-1", api_key: OTHER_KEY, switch_account: true } },
    ]);
    expect(within(card("Demo shop")).getByTestId("connection-account").textContent).toContain("Other Ltd");
    await waitFor(() => expect(callsOf(calls, "sync_connection")).toHaveLength(1));
    keyIsNowhere(OTHER_KEY);
  });

  it("on a key of another account, can go back to a key of its own account", async () => {
    const { calls } = setup([dead()], {
      reconnect_with_key: (args) =>
        args.input.api_key === KEY ? connection() : Promise.reject({ code: "conflict", message: CONFLICT, retryable: false }),
    });
    await fireEvent.click(screen.getByTestId("reconnect-key-conn-1"));
    await paste(OTHER_KEY);
    await fireEvent.click(await screen.findByTestId("key-reconnect-other-key"));
    expect(screen.queryByTestId("key-reconnect-conflict")).toBeNull();

    // Even after "Use it anyway", "Don't switch" goes back.
    await paste(OTHER_KEY);
    await fireEvent.click(await screen.findByTestId("key-reconnect-switch"));
    await fireEvent.click(screen.getByTestId("key-reconnect-switch-cancel"));
    expect(screen.queryByTestId("key-reconnect-switching")).toBeNull();

    await paste(KEY);
    await waitFor(() => expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull());
    expect(callsOf(calls, "reconnect_with_key").map((a) => a.input.switch_account)).toEqual([false, false, false]);
  });

  it("shows a network failure through the error notice, asking for the key again", async () => {
    setup([dead()], {
      reconnect_with_key: () =>
        Promise.reject({ code: "network", message: "Could not reach Stripe. Check your connection.", retryable: true }),
    });
    await fireEvent.click(screen.getByTestId("reconnect-key-conn-1"));
    await paste(KEY);
    const dialog = screen.getByTestId("key-reconnect-dialog");
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("Could not reach Stripe.");
    expect(text(dialog)).toContain("Paste the key again to retry.");
  });
});

describe("the attention banner", () => {
  it("offers Reconnect for a Stripe key that died, opens the same dialog, and syncs after", async () => {
    const calls = commands({ reconnect_with_key: () => connection() });
    const { app, syncs } = state([dead(), xeroConnection({ status: "needs_reconnect" })]);
    app.providers = [stripe, xero];
    render(AttentionBanner, { app, syncs });

    const banner = screen.getByTestId("attention-banner");
    const item = within(banner)
      .getAllByTestId("attention-item")
      .find((i) => i.dataset.connectionName === "Demo shop")!;
    expect(text(item)).toContain("Demo shop needs a new key: Stripe no longer accepts the old one.");
    expect(within(banner).getByTestId("attention-reconnect-conn-x")).toBeTruthy();
    expect(within(banner).queryByTestId("attention-reconnect-conn-1")).toBeNull();

    await fireEvent.click(within(item).getByTestId("attention-reconnect-key-conn-1"));
    const dialog = screen.getByTestId("key-reconnect-dialog");
    expect(text(dialog)).toContain("Reconnect “Demo shop”");
    await paste(KEY);

    await waitFor(() => expect(screen.queryByTestId("key-reconnect-dialog")).toBeNull());
    expect(callsOf(calls, "reconnect_with_key")).toEqual([
      { input: { connection_id: "conn-1", api_key: KEY, switch_account: false } },
    ]);
    expect(app.connections.find((c) => c.id === "conn-1")?.status).toBe("connected");
    expect(app.reconnects.of("conn-1")?.done).toBe(true);
    expect(screen.queryByTestId("attention-reconnect-key-conn-1")).toBeNull();
    await waitFor(() => expect(callsOf(calls, "sync_connection")).toHaveLength(1));
    expect(callsOf(calls, "sync_connection")[0]!.connectionId).toBe("conn-1");
    keyIsNowhere(KEY);
  });
});
