import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { connection, health, quickbooks, run, stripe, xero, xeroConnection } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

const CONFLICT =
  "You chose Other Ltd (tenant-2) at Xero, but “Books” is connected to Demo Company (AU) (tenant-1). Nothing was changed.";

function setup(connections: ConnectionView[], handlers: Record<string, Handler> = {}) {
  const calls = mockCommands({
    list_providers: () => [stripe, xero],
    get_health: () => ({ checked_at: "2024-05-01T10:06:00Z", needs_attention: false, connections: [] }),
    ...handlers,
  });
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  const requested: string[] = [];
  render(ConnectionsView, { app, syncs, onrequests: (id: string) => requested.push(id) });
  return { calls, app, requested };
}

/** Text as read, whitespace collapsed. */
const text = (element: Element) => element.textContent?.replace(/\s+/g, " ") ?? "";

const card = (name: string) =>
  screen.getAllByTestId("connection-card").find((c) => c.dataset.connectionName === name)!;

describe("a connection's life cycle", () => {
  it("shows the account and the permissions granted", () => {
    setup([xeroConnection(), connection({ account_name: null })]);
    const books = card("Books");
    expect(within(books).getByTestId("connection-account").textContent).toContain("Demo Company (AU)");
    expect(within(books).getByTestId("connection-account").querySelector(".mono")?.textContent).toBe("tenant-1");
    const scopes = within(books).getByTestId("connection-scopes");
    expect(scopes.tagName).toBe("DETAILS");
    expect(scopes.querySelector("summary")?.textContent).toBe("Permissions (3)");
    expect([...scopes.querySelectorAll("li")].map((li) => li.textContent)).toContain("accounting.settings.read");

    // An API-key connection: the id alone, and no permissions.
    const shop = card("Demo shop");
    expect(within(shop).getByTestId("connection-account").textContent?.trim()).toBe("acct_123");
    expect(within(shop).queryByTestId("connection-scopes")).toBeNull();
  });

  describe("Reconnect", () => {
    it("signs a connection that needs it in again, says it waits for the browser, and updates the card", async () => {
      const answer = deferred<ConnectionView>();
      const { calls } = setup([xeroConnection({ status: "needs_reconnect" })], {
        reconnect_connection: () => answer.promise,
      });
      const books = card("Books");
      expect(books.textContent).toContain("Needs reconnect");
      const button = await within(books).findByTestId("reconnect-conn-x");
      expect(button.classList.contains("primary")).toBe(true);

      await fireEvent.click(button);
      expect(callsOf(calls, "reconnect_connection")).toEqual([
        { input: { connection_id: "conn-x", client_secret: null, account: null, switch_account: false, feature: null } },
      ]);
      const waiting = await within(books).findByTestId("reconnect-waiting-conn-x");
      expect(waiting.textContent).toBe("Waiting for you to approve in your browser…");
      expect(button.hasAttribute("disabled")).toBe(true);

      answer.resolve(xeroConnection({ status: "connected" }));
      await waitFor(() => expect(books.textContent).toContain("Connected"));
      expect(within(books).queryByTestId("reconnect-conn-x")).toBeNull();
      expect(within(books).getByTestId("reconnect-done-conn-x").textContent).toContain(
        "Signed in again to Demo Company (AU).",
      );
    });

    it("offers no browser Reconnect to an API-key connection (it takes a new key), nor to a healthy sign-in", async () => {
      const { calls } = setup([
        connection({ status: "needs_reconnect" }),
        xeroConnection(),
      ]);
      await waitFor(() => expect(callsOf(calls, "list_providers")).toHaveLength(1));
      await waitFor(() => expect(callsOf(calls, "get_health")).toHaveLength(1));
      expect(screen.queryByTestId("reconnect-conn-1")).toBeNull();
      expect(screen.getByTestId("reconnect-key-conn-1")).toBeTruthy();
      expect(screen.queryByTestId("reconnect-conn-x")).toBeNull();
    });

    it("offers Reconnect ahead of a sign-in that lapses", async () => {
      setup([xeroConnection()], {
        get_health: () => ({
          checked_at: "2024-05-01T10:06:00Z",
          needs_attention: true,
          connections: [
            health({ connection_id: "conn-x", token: "expiring", token_lapses_at: "2024-06-01T00:00:00Z" }),
          ],
        }),
      });
      const button = await screen.findByTestId("reconnect-conn-x");
      expect(button.classList.contains("primary")).toBe(false);
    });

    it("on a different organisation, offers the switch and sends switch_account after confirming", async () => {
      let attempt = 0;
      const { calls } = setup([xeroConnection({ status: "needs_reconnect" })], {
        reconnect_connection: () => {
          attempt += 1;
          return attempt === 1
            ? Promise.reject({ code: "conflict", message: CONFLICT, retryable: false })
            : xeroConnection({ account_id: "tenant-2", account_name: "Other Ltd" });
        },
      });
      const books = card("Books");
      await fireEvent.click(await within(books).findByTestId("reconnect-conn-x"));

      const conflict = await within(books).findByTestId("reconnect-conflict-conn-x");
      expect(conflict.getAttribute("role")).toBe("alert");
      expect(conflict.textContent).toContain("Nothing was changed.");

      // Asking to switch first shows what switching means.
      await fireEvent.click(within(conflict).getByTestId("reconnect-switch-conn-x"));
      const confirm = screen.getByTestId("switch-account-dialog");
      expect(text(confirm)).toContain("keeps the payments and history");
      expect(text(confirm)).toContain("from the next sync on it reads the account you chose");
      expect(callsOf(calls, "reconnect_connection")).toHaveLength(1);

      await fireEvent.click(within(confirm).getByTestId("switch-account-confirm"));
      await waitFor(() => expect(callsOf(calls, "reconnect_connection")).toHaveLength(2));
      expect(callsOf(calls, "reconnect_connection")[1]).toEqual({
        input: { connection_id: "conn-x", client_secret: null, account: null, switch_account: true, feature: null },
      });
      expect(screen.queryByTestId("switch-account-dialog")).toBeNull();
      await waitFor(() => expect(within(books).getByTestId("connection-account").textContent).toContain("Other Ltd"));
    });

    it("Cancel on a different organisation changes nothing", async () => {
      const { calls } = setup([xeroConnection({ status: "needs_reconnect" })], {
        reconnect_connection: () => Promise.reject({ code: "conflict", message: CONFLICT, retryable: false }),
      });
      const books = card("Books");
      await fireEvent.click(await within(books).findByTestId("reconnect-conn-x"));
      const conflict = await within(books).findByTestId("reconnect-conflict-conn-x");

      // Cancelling the confirmation keeps the question; Cancel on the question ends it.
      await fireEvent.click(within(conflict).getByTestId("reconnect-switch-conn-x"));
      await fireEvent.keyDown(window, { key: "Escape" });
      expect(screen.queryByTestId("switch-account-dialog")).toBeNull();
      await fireEvent.click(within(conflict).getByTestId("reconnect-switch-cancel-conn-x"));
      expect(within(books).queryByTestId("reconnect-conflict-conn-x")).toBeNull();
      expect(callsOf(calls, "reconnect_connection")).toHaveLength(1);
      expect(books.textContent).toContain("Needs reconnect");
    });

    it("asks which organisation when the sign-in reaches several, and sends it", async () => {
      let attempt = 0;
      const { calls } = setup([xeroConnection({ status: "needs_reconnect" })], {
        reconnect_connection: () => {
          attempt += 1;
          return attempt === 1
            ? Promise.reject({
                code: "invalid_input",
                message: "This sign-in reaches several: A (a), B (b). Choose one Xero organisation (by name or id).",
                retryable: false,
              })
            : xeroConnection();
        },
      });
      const books = card("Books");
      await fireEvent.click(await within(books).findByTestId("reconnect-conn-x"));
      const field = await within(books).findByTestId("reconnect-account-conn-x");
      await fireEvent.input(field, { target: { value: "B" } });
      await fireEvent.submit(field.closest("form")!);
      await waitFor(() => expect(callsOf(calls, "reconnect_connection")).toHaveLength(2));
      expect(callsOf(calls, "reconnect_connection")[1]!.input).toEqual({
        connection_id: "conn-x",
        client_secret: null,
        account: "B",
        switch_account: false,
        feature: null,
      });
    });

    it("shows any other failure with what to do", async () => {
      setup([xeroConnection({ status: "needs_reconnect" })], {
        reconnect_connection: () =>
          Promise.reject({ code: "network", message: "Could not reach Xero. Check your connection.", retryable: true }),
      });
      const books = card("Books");
      await fireEvent.click(await within(books).findByTestId("reconnect-conn-x"));
      const error = await within(books).findByTestId("reconnect-error-conn-x");
      expect(within(error).getByRole("alert").textContent).toContain("Could not reach Xero.");
      expect(within(error).getByRole("button", { name: "Retry" })).toBeTruthy();
    });

    describe("the app's client secret", () => {
      const books = (overrides: Partial<ConnectionView> = {}) =>
        xeroConnection({
          id: "conn-q",
          provider: "quickbooks",
          provider_name: "QuickBooks Online",
          name: "Ledger",
          ...overrides,
        });
      const withQuickBooks = { list_providers: () => [stripe, xero, quickbooks] };

      it("is asked for on a disconnected QuickBooks connection, sent once, and cleared at once", async () => {
        const answer = deferred<ConnectionView>();
        const { calls } = setup([books({ status: "disconnected" })], {
          ...withQuickBooks,
          reconnect_connection: () => answer.promise,
        });
        const ledger = card("Ledger");
        const field = (await within(ledger).findByTestId("reconnect-secret-conn-q")) as HTMLInputElement;
        expect(field.type).toBe("password");
        expect(within(ledger).getByLabelText("Client secret of your QuickBooks Online app")).toBe(field);
        expect(ledger.textContent).toContain(
          "Needed again after a disconnect, unless you sign in through an auth relay.",
        );
        // It comes before the Reconnect button.
        const button = within(ledger).getByTestId("reconnect-conn-q");
        expect(field.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

        await fireEvent.input(field, { target: { value: " qb-secret " } });
        await fireEvent.click(button);
        expect(callsOf(calls, "reconnect_connection")).toEqual([
          {
            input: {
              connection_id: "conn-q",
              client_secret: "qb-secret",
              account: null,
              switch_account: false,
              feature: null,
            },
          },
        ]);
        expect(field.value).toBe("");

        answer.resolve(books({ status: "connected" }));
        await waitFor(() => expect(within(ledger).queryByTestId("reconnect-secret-conn-q")).toBeNull());
      });

      it("sends null when left empty", async () => {
        const { calls } = setup([books({ status: "disconnected" })], {
          ...withQuickBooks,
          reconnect_connection: () => books(),
        });
        const ledger = card("Ledger");
        await within(ledger).findByTestId("reconnect-secret-conn-q");
        await fireEvent.click(within(ledger).getByTestId("reconnect-conn-q"));
        expect(callsOf(calls, "reconnect_connection")[0]!.input).toMatchObject({ client_secret: null });
      });

      it("is not asked for where the provider has none (Xero), nor on a connection that was not disconnected", async () => {
        setup([xeroConnection({ status: "needs_reconnect" }), books({ status: "needs_reconnect" })], withQuickBooks);
        expect(await within(card("Books")).findByTestId("reconnect-conn-x")).toBeTruthy();
        expect(await within(card("Ledger")).findByTestId("reconnect-conn-q")).toBeTruthy();
        expect(screen.queryByTestId("reconnect-secret-conn-x")).toBeNull();
        expect(screen.queryByTestId("reconnect-secret-conn-q")).toBeNull();
      });

      it("is asked for after a sign-in refused for want of it, and the retry sends it", async () => {
        let attempt = 0;
        const { calls } = setup([books({ status: "needs_reconnect" })], {
          ...withQuickBooks,
          reconnect_connection: () => {
            attempt += 1;
            return attempt === 1
              ? Promise.reject({
                  code: "auth_failed",
                  message: "QuickBooks Online wants the client secret of your app. Paste it, then Reconnect.",
                  retryable: false,
                })
              : books();
          },
        });
        const ledger = card("Ledger");
        const button = await within(ledger).findByTestId("reconnect-conn-q");
        expect(within(ledger).queryByTestId("reconnect-secret-conn-q")).toBeNull();
        await fireEvent.click(button);

        const field = (await within(ledger).findByTestId("reconnect-secret-conn-q")) as HTMLInputElement;
        expect(within(ledger).getByTestId("reconnect-error-conn-q").textContent).toContain("client secret");
        await fireEvent.input(field, { target: { value: "qb-secret" } });
        await fireEvent.click(button);
        await waitFor(() => expect(callsOf(calls, "reconnect_connection")).toHaveLength(2));
        expect(callsOf(calls, "reconnect_connection")[0]!.input).toMatchObject({ client_secret: null });
        expect(callsOf(calls, "reconnect_connection")[1]!.input).toMatchObject({ client_secret: "qb-secret" });
        expect(field.value).toBe("");
      });

      it("is not asked for after another sign-in failure", async () => {
        setup([books({ status: "needs_reconnect" })], {
          ...withQuickBooks,
          reconnect_connection: () =>
            Promise.reject({ code: "auth_failed", message: "Intuit refused the sign-in.", retryable: false }),
        });
        const ledger = card("Ledger");
        await fireEvent.click(await within(ledger).findByTestId("reconnect-conn-q"));
        await within(ledger).findByTestId("reconnect-error-conn-q");
        expect(within(ledger).queryByTestId("reconnect-secret-conn-q")).toBeNull();
      });
    });
  });

  describe("Disconnect", () => {
    it("confirms, then shows what happened at the provider", async () => {
      const gone = xeroConnection({ status: "disconnected" });
      const { calls } = setup([xeroConnection()], {
        disconnect_connection: () => ({
          connection: gone,
          revoked: "revoked",
          message: "Xero ended Switchboard's access, and Switchboard forgot its sign-in.",
        }),
      });
      const books = card("Books");
      expect(within(books).queryByTestId("delete-conn-x")).toBeNull();
      await fireEvent.click(within(books).getByTestId("disconnect-conn-x"));

      const dialog = screen.getByTestId("disconnect-dialog");
      expect(text(dialog)).toContain(
        "Switchboard asks Xero to end its access where it can and forgets the stored keys and tokens. Payments and history stay.",
      );
      expect(callsOf(calls, "disconnect_connection")).toHaveLength(0);
      await fireEvent.click(within(dialog).getByTestId("disconnect-confirm"));

      await waitFor(() => expect(screen.queryByTestId("disconnect-dialog")).toBeNull());
      expect(callsOf(calls, "disconnect_connection")).toEqual([{ connectionId: "conn-x" }]);
      const message = within(books).getByTestId("disconnect-message");
      expect(message.textContent).toContain("Xero ended Switchboard's access");
      expect(books.textContent).toContain("Disconnected");
      expect(within(books).queryByTestId("disconnect-conn-x")).toBeNull();
      expect(within(books).queryByTestId("sync-now")).toBeNull();
      expect(within(books).getByTestId("delete-conn-x")).toBeTruthy();
      // A disconnected sign-in can be reconnected.
      expect(within(books).getByTestId("reconnect-conn-x")).toBeTruthy();
    });

    it("Cancel disconnects nothing, and a failure shows in the dialog", async () => {
      const { calls } = setup([xeroConnection()], {
        disconnect_connection: () => Promise.reject({ code: "storage", message: "The database is busy.", retryable: true }),
      });
      const books = card("Books");
      await fireEvent.click(within(books).getByTestId("disconnect-conn-x"));
      await fireEvent.click(within(screen.getByTestId("disconnect-dialog")).getByRole("button", { name: "Cancel" }));
      expect(screen.queryByTestId("disconnect-dialog")).toBeNull();
      expect(callsOf(calls, "disconnect_connection")).toHaveLength(0);

      await fireEvent.click(within(books).getByTestId("disconnect-conn-x"));
      await fireEvent.click(screen.getByTestId("disconnect-confirm"));
      const alert = await within(screen.getByTestId("disconnect-dialog")).findByRole("alert");
      expect(alert.textContent).toContain("The database is busy.");
      expect(books.textContent).toContain("Connected");
    });
  });

  describe("Delete", () => {
    it("is offered only once disconnected, and deletes only after confirmation", async () => {
      const { calls, app } = setup([xeroConnection({ status: "disconnected", payment_count: 1234 }), connection()], {
        delete_connection: () => "Books",
      });
      expect(within(card("Demo shop")).queryByTestId("delete-conn-1")).toBeNull();
      const books = card("Books");
      await fireEvent.click(within(books).getByTestId("delete-conn-x"));

      const dialog = screen.getByTestId("delete-dialog");
      expect(dialog.textContent).toContain("Books");
      expect(within(dialog).getByTestId("delete-summary").textContent).toContain("1,234 payments");
      expect(dialog.textContent).toContain("cannot be undone");
      expect(dialog.textContent).toContain("Settings → Backups");
      // Cancel is where the focus starts.
      await waitFor(() => expect(document.activeElement?.textContent?.trim()).toBe("Cancel"));
      await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
      expect(callsOf(calls, "delete_connection")).toHaveLength(0);
      expect(screen.getAllByTestId("connection-card")).toHaveLength(2);

      await fireEvent.click(within(books).getByTestId("delete-conn-x"));
      const confirm = within(screen.getByTestId("delete-dialog")).getByTestId("delete-confirm");
      expect(confirm.textContent?.trim()).toBe("Delete connection and data");
      const version = app.dataVersion;
      await fireEvent.click(confirm);

      await waitFor(() => expect(screen.getAllByTestId("connection-card")).toHaveLength(1));
      expect(callsOf(calls, "delete_connection")).toEqual([{ connectionId: "conn-x" }]);
      expect(screen.getByTestId("deleted-notice").textContent).toContain("Deleted “Books” and its data.");
      expect(screen.queryByTestId("delete-dialog")).toBeNull();
      expect(app.dataVersion).toBe(version + 1);
    });

    it("keeps the connection when Rust refuses", async () => {
      setup([xeroConnection({ status: "disconnected" })], {
        delete_connection: () =>
          Promise.reject({ code: "invalid_input", message: "Disconnect “Books” before deleting it and its data.", retryable: false }),
      });
      await fireEvent.click(screen.getByTestId("delete-conn-x"));
      await fireEvent.click(screen.getByTestId("delete-confirm"));
      const alert = await within(screen.getByTestId("delete-dialog")).findByRole("alert");
      expect(alert.textContent).toContain("Disconnect “Books” before deleting it");
      expect(screen.getAllByTestId("connection-card")).toHaveLength(1);
    });
  });

  describe("details", () => {
    it("opens from the name with account, permissions, sign-in, health and this connection's runs", async () => {
      const { calls, requested } = setup([xeroConnection(), connection()], {
        get_health: () => ({
          checked_at: "2024-05-01T10:06:00Z",
          needs_attention: true,
          connections: [
            health({
              connection_id: "conn-x",
              connection: "Books",
              provider: "xero",
              token: "expiring",
              token_lapses_at: "2024-06-01T12:00:00Z",
              budget: {
                limits: { per_second: null, per_minute: 60, per_day: 5000, concurrent: 5 },
                overridden: false,
                daily_reset: "rolling_24h",
                daily_used: 10,
                daily_left: 4990,
                daily_resets_at: "2024-05-02T09:00:00Z",
              },
            }),
          ],
        }),
        list_sync_runs: () => [
          run({ id: "run-a", connection_id: "conn-1", connection: "Demo shop" }),
          run({ id: "run-b", connection_id: "conn-x", connection: "Books", stream: "invoices", fetched: 7 }),
        ],
      });
      expect(screen.queryByTestId("connection-detail")).toBeNull();
      await fireEvent.click(screen.getByTestId("connection-open-conn-x"));

      const detail = screen.getByTestId("connection-detail");
      expect(detail.querySelector("h2")?.textContent).toBe("Books");
      expect(within(detail).getByTestId("detail-account").textContent).toContain("Demo Company (AU)");
      expect(within(detail).getByTestId("detail-account").textContent).toContain("tenant-1");
      expect([...within(detail).getByTestId("detail-scopes").querySelectorAll("li")].map((l) => l.textContent)).toEqual([
        "openid",
        "offline_access",
        "accounting.settings.read",
      ]);
      expect(within(detail).getByTestId("detail-api-base").textContent).toBe("https://api.xero.com/api.xro/2.0");
      await waitFor(() => expect(within(detail).getByTestId("detail-sign-in").textContent).toContain("Renew soon"));
      expect(within(detail).getByTestId("detail-sign-in").querySelector("time")?.getAttribute("title")).toBe(
        "2024-06-01 12:00:00 UTC",
      );
      expect(within(detail).getByTestId("detail-circuit").textContent).toContain("Requests flow normally");
      expect(within(detail).getByTestId("detail-budget").textContent).toContain("4,990 of 5,000");

      const rows = await within(detail).findAllByTestId("detail-run");
      expect(rows).toHaveLength(1);
      expect(rows[0]!.textContent).toContain("Invoices");
      expect(callsOf(calls, "list_sync_runs")).toEqual([{ limit: 200 }]);

      await fireEvent.click(within(detail).getByTestId("detail-requests"));
      expect(requested).toEqual(["conn-x"]);

      await fireEvent.keyDown(window, { key: "Escape" });
      expect(screen.queryByTestId("connection-detail")).toBeNull();
    });

    it("says when the connection has not synced, and shows a failure to load runs", async () => {
      let fail = false;
      setup([xeroConnection()], {
        list_sync_runs: () =>
          fail ? Promise.reject({ code: "storage", message: "The database is busy.", retryable: true }) : [run()],
      });
      await fireEvent.click(screen.getByTestId("connection-open-conn-x"));
      expect(await screen.findByTestId("detail-runs-empty")).toBeTruthy();
      await fireEvent.click(screen.getByTestId("connection-detail-close"));
      expect(screen.queryByTestId("connection-detail")).toBeNull();

      fail = true;
      await fireEvent.click(screen.getByTestId("connection-open-conn-x"));
      const alert = await within(screen.getByTestId("connection-detail")).findByRole("alert");
      expect(alert.textContent).toContain("The database is busy.");
      expect(within(alert).getByRole("button", { name: "Retry" })).toBeTruthy();
    });
  });
});
