import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { emit } from "@tauri-apps/api/event";
import { describe, expect, it, vi } from "vitest";
import App from "./App.svelte";
import type { ConnectionView } from "./lib/bindings/ConnectionView";
import type { WorkspaceInfo } from "./lib/bindings/WorkspaceInfo";
import { connection, health, page, request, run, stripe, xero, xeroConnection } from "./test/fixtures";
import { dashboard, subscription } from "./test/dashboardFixtures";
import { paymentDetail, payout, payoutDetail, payoutPage } from "./test/paymentFixtures";
import { callsOf, deferred, mockCommands, type Handler } from "./test/ipc";

// jsdom has no canvas; the Dashboard's chart is tested on its own (DashboardView.test.ts).
vi.mock("chart.js", () => {
  class Chart {
    static register() {}
    destroy() {}
  }
  return { Chart, BarController: {}, BarElement: {}, CategoryScale: {}, LinearScale: {}, Tooltip: {}, Legend: {} };
});

const demo: WorkspaceInfo = { kind: "demo", path: "/data/switchboard/demo" };
const real: WorkspaceInfo = { kind: "real", path: "/data/switchboard" };

function workspace(start: WorkspaceInfo, handlers: Record<string, Handler> = {}) {
  let current = start;
  let connections: ConnectionView[] = start.kind === "demo" ? [connection()] : [];
  return mockCommands({
    get_workspace: () => current,
    leave_demo: () => {
      current = real;
      connections = [];
      return real;
    },
    list_connections: () => connections,
    list_payments: (args) =>
      connections.length === 0 ? { items: [], next_cursor: null, total: 0 } : page(0, args.limit as number, 3),
    list_sync_runs: () => [],
    list_requests: () => [],
    get_dashboard: () => dashboard(),
    list_payment_requests: () => [],
    list_subscriptions: () => [subscription()],
    list_payouts: () => ({ items: [], next_cursor: null }),
    ...handlers,
  });
}

describe("app", () => {
  it("opens the demo on Payments, with the demo banner", async () => {
    workspace(demo);
    render(App);
    const banner = await screen.findByTestId("demo-banner");
    expect(banner.textContent).toContain("Demo data");
    expect(await screen.findAllByTestId("payment-row")).toHaveLength(3);
    expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page");
  });

  it("leaves the demo for the real, empty workspace and reloads everything", async () => {
    const calls = workspace(demo);
    render(App);
    const banner = await screen.findByTestId("demo-banner");
    await fireEvent.click(within(banner).getByRole("button", { name: "Start with my own accounts" }));

    await waitFor(() => expect(screen.queryByTestId("demo-banner")).toBeNull());
    expect(callsOf(calls, "leave_demo")).toHaveLength(1);
    expect(callsOf(calls, "list_connections").length).toBeGreaterThanOrEqual(2);
    expect((await screen.findByTestId("connections-empty")).textContent).toContain(
      "Add your first connection",
    );

    await fireEvent.click(screen.getByTestId("nav-payments"));
    expect(await screen.findByTestId("payments-empty")).toBeTruthy();
  });

  it("shows no banner in the real workspace and starts a new user on Connections", async () => {
    workspace(real);
    render(App);
    expect(await screen.findByTestId("connections-empty")).toBeTruthy();
    expect(screen.queryByTestId("demo-banner")).toBeNull();
  });

  it("says messaging arrives with its connections", async () => {
    workspace(real);
    render(App);
    await fireEvent.click(screen.getByTestId("nav-messages"));
    const empty = screen.getByTestId("messages-empty");
    expect(empty.textContent).toContain("SendGrid");
    expect(empty.textContent).toContain("Twilio");
  });

  it("shows an empty Sync activity, then runs after a refresh", async () => {
    let runs = [] as ReturnType<typeof run>[];
    const calls = workspace(real, { list_sync_runs: () => runs });
    render(App);
    await fireEvent.click(screen.getByTestId("nav-sync"));
    expect(await screen.findByTestId("runs-empty")).toBeTruthy();

    runs = [run({ status: "partial", failed: 2, error_message: "2 charges had no amount." })];
    await fireEvent.click(screen.getByTestId("refresh-runs"));
    const row = await screen.findByTestId("sync-run");
    expect(row.textContent).toContain("Partial");
    expect(row.textContent).toContain("2 charges had no amount.");
    expect(callsOf(calls, "list_sync_runs")[0]).toEqual({ limit: 200 });
  });

  it("opens a connection's requests from its card", async () => {
    const calls = workspace(demo, {
      list_requests: (args) => (args.connectionId === "conn-1" ? [request({ attempt: 2 })] : []),
    });
    render(App);
    await fireEvent.click(screen.getByTestId("nav-connections"));
    const card = await screen.findByTestId("connection-card");
    await fireEvent.click(within(card).getByRole("button", { name: "Requests of Demo shop" }));

    expect(screen.getByTestId("nav-sync").getAttribute("aria-current")).toBe("page");
    expect(screen.getByTestId("requests-tab").getAttribute("aria-selected")).toBe("true");
    const row = await screen.findByTestId("request-row");
    expect(row.textContent).toContain("/v1/charges");
    expect(row.textContent).toContain("retry 1");
    expect((screen.getByTestId("connection-filter") as HTMLSelectElement).value).toBe("conn-1");
    expect(callsOf(calls, "list_requests")).toEqual([{ connectionId: "conn-1", limit: 500 }]);
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Sync activity"));

    // The tab and its filter stay while moving around the app.
    await fireEvent.click(screen.getByTestId("nav-payments"));
    await fireEvent.click(screen.getByTestId("nav-sync"));
    expect(screen.getByTestId("requests-tab").getAttribute("aria-selected")).toBe("true");
    expect((screen.getByTestId("connection-filter") as HTMLSelectElement).value).toBe("conn-1");
  });

  it("switches screens with g-letter shortcuts and Alt+digits", async () => {
    workspace(demo);
    render(App);
    await screen.findAllByTestId("payment-row");

    await fireEvent.keyDown(window, { key: "g" });
    await fireEvent.keyDown(window, { key: "c" });
    expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Connections"));

    await fireEvent.keyDown(window, { key: "7", code: "Digit7", altKey: true });
    expect(screen.getByTestId("nav-messages").getAttribute("aria-current")).toBe("page");

    await fireEvent.keyDown(window, { key: "3", code: "Digit3", altKey: true });
    await screen.findAllByTestId("payment-row");
    await fireEvent.keyDown(window, { key: "/" });
    // The Payments screen's own search (or filter) takes the focus.
    expect(document.activeElement?.hasAttribute("data-shortcut-search")).toBe(true);
    expect(screen.getByRole("main").contains(document.activeElement)).toBe(true);
  });

  it("reaches the Dashboard, Payouts and Subscriptions from the sidebar and by shortcut", async () => {
    const calls = workspace(demo);
    render(App);
    await screen.findAllByTestId("payment-row");
    const nav = screen.getByRole("navigation", { name: "Main" });
    expect(within(nav).getAllByRole("button").map((b) => b.textContent?.replace(/g \w$/, "").trim())).toEqual([
      "Dashboard",
      "Connections",
      "Payments",
      "Payouts",
      "Subscriptions",
      "Sync activity",
      "Messages",
      "Settings",
    ]);
    expect(screen.getByTestId("nav-dashboard").getAttribute("aria-keyshortcuts")).toBe("g d Alt+1");

    await fireEvent.keyDown(window, { key: "g" });
    await fireEvent.keyDown(window, { key: "d" });
    expect(screen.getByTestId("nav-dashboard").getAttribute("aria-current")).toBe("page");
    await screen.findByTestId("dashboard-view");
    await waitFor(() => expect(document.activeElement?.textContent).toBe("Dashboard"));
    // "/" focuses the Dashboard's period.
    await fireEvent.keyDown(window, { key: "/" });
    expect(document.activeElement).toBe(screen.getByTestId("dashboard-period"));
    (document.activeElement as HTMLElement).blur();

    await fireEvent.keyDown(window, { key: "g" });
    await fireEvent.keyDown(window, { key: "u" });
    expect(screen.getByTestId("nav-subscriptions").getAttribute("aria-current")).toBe("page");
    expect(await screen.findAllByTestId("subscription-row")).toHaveLength(1);

    await fireEvent.keyDown(window, { key: "4", code: "Digit4", altKey: true });
    expect(screen.getByTestId("nav-payouts").getAttribute("aria-current")).toBe("page");
    await waitFor(() => expect(callsOf(calls, "list_payouts").length).toBeGreaterThan(0));

    await fireEvent.keyDown(window, { key: "1", code: "Digit1", altKey: true });
    expect(screen.getByTestId("nav-dashboard").getAttribute("aria-current")).toBe("page");
  });

  it("goes from a payment to its payout and from a payout's entry to its payment", async () => {
    const calls = workspace(demo, {
      get_payment: (args) =>
        paymentDetail(Number(String(args.id).replace("pay-", "")), args.id === "pay-0" ? { payout: payout() } : {}),
      list_payouts: () => payoutPage([payout()]),
      get_payout: () => payoutDetail(),
    });
    render(App);
    const rows = await screen.findAllByTestId("payment-row");
    await fireEvent.click(rows[0]!);
    await fireEvent.click(await screen.findByTestId("open-payout"));

    expect(screen.getByTestId("nav-payouts").getAttribute("aria-current")).toBe("page");
    expect(await screen.findByTestId("payout-detail")).toBeTruthy();
    await waitFor(() => expect(callsOf(calls, "get_payout")).toContainEqual({ id: "payout-1" }));

    const entry = (await screen.findAllByTestId("payout-entry-open"))[0]!;
    await fireEvent.click(entry);
    expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page");
    expect(await screen.findByTestId("payment-drawer")).toBeTruthy();
    await waitFor(() => expect(callsOf(calls, "get_payment")).toContainEqual({ id: "pay-1" }));

    // Moving on by the sidebar does not reopen either of them.
    await fireEvent.click(screen.getByTestId("nav-payouts"));
    await fireEvent.click(screen.getByTestId("nav-payments"));
    await screen.findAllByTestId("payment-row");
    expect(screen.queryByTestId("payment-drawer")).toBeNull();
  });

  describe("first screen", () => {
    it("is the Dashboard for a business with a payment connection", async () => {
      const calls = workspace(real, { list_connections: () => [connection({ name: "Main" })] });
      render(App);
      expect((await screen.findAllByTestId("dashboard-currency-card")).length).toBeGreaterThan(0);
      expect(screen.getByTestId("nav-dashboard").getAttribute("aria-current")).toBe("page");
      // Payments never loaded on the way there.
      expect(callsOf(calls, "list_payments")).toHaveLength(0);
      expect(within(screen.getByRole("main")).getByTestId("request-payment")).toBeTruthy();
    });

    it("is the Dashboard for PayPal or Square too", async () => {
      workspace(real, {
        list_connections: () => [xeroConnection(), connection({ provider: "square", provider_name: "Square" })],
      });
      render(App);
      await screen.findAllByTestId("dashboard-currency-card");
      expect(screen.getByTestId("nav-dashboard").getAttribute("aria-current")).toBe("page");
    });

    it("stays Payments in the demo", async () => {
      const calls = workspace(demo);
      render(App);
      await screen.findAllByTestId("payment-row");
      expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page");
      expect(callsOf(calls, "get_dashboard")).toHaveLength(0);
    });

    it("is Payments when no connection takes payments", async () => {
      workspace(real, { list_connections: () => [xeroConnection()] });
      render(App);
      await waitFor(() => expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page"));
    });

    it("shows the workspace opening until it knows, and keeps a screen chosen meanwhile", async () => {
      const opened = deferred<WorkspaceInfo>();
      workspace(real, { get_workspace: () => opened.promise, list_connections: () => [connection()] });
      render(App);
      expect(screen.getByRole("main").textContent).toContain("Opening your workspace");
      await fireEvent.click(screen.getByTestId("nav-subscriptions"));
      opened.resolve(real);
      expect(await screen.findAllByTestId("subscription-row")).toHaveLength(1);
      expect(screen.getByTestId("nav-subscriptions").getAttribute("aria-current")).toBe("page");
    });

    it("sends the Dashboard's Connect button to Connections", async () => {
      workspace(real, { list_connections: () => [xeroConnection()] });
      render(App);
      await waitFor(() => expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page"));
      await fireEvent.click(screen.getByTestId("nav-dashboard"));
      const empty = screen.getByTestId("dashboard-no-connection");
      await fireEvent.click(within(empty).getByRole("button", { name: "Go to Connections" }));
      expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
    });
  });

  it("shows a workspace error plainly", async () => {
    const noKey = () =>
      Promise.reject({
        code: "secret_store",
        message: "No master key: unlock your keyring or set SWITCHBOARD_MASTER_KEY.",
        retryable: false,
      });
    // When the workspace cannot open, every command fails the same way.
    workspace(real, {
      get_workspace: noKey,
      list_connections: noKey,
      list_payments: noKey,
      list_providers: noKey,
    });
    render(App);
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("No master key");
    expect(within(alert).queryByRole("button", { name: "Retry" })).toBeNull();
    // Shown once, not again by every screen that fails for the same reason.
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });
  it("shows the offline banner while the scheduler finds no network, and reloads after its syncs", async () => {
    const calls = workspace(real, {
      list_connections: () => [connection()],
      get_network_status: () => ({ online: true, since: "2024-05-01T10:00:00Z", checked_at: null, message: null }),
    });
    render(App);
    await waitFor(() => expect(callsOf(calls, "get_network_status")).toHaveLength(1));
    expect(screen.queryByTestId("offline-banner")).toBeNull();

    await emit("network-status", {
      online: false,
      since: "2024-05-01T10:00:00Z",
      checked_at: "2024-05-01T10:00:00Z",
      message: "Offline: api.stripe.com (connection refused). Switchboard keeps everything it has.",
    });
    const banner = await screen.findByTestId("offline-banner");
    expect(banner.textContent).toContain("api.stripe.com");

    const before = callsOf(calls, "list_connections").length;
    await emit("scheduled-sync", [run()]);
    await waitFor(() => expect(callsOf(calls, "list_connections").length).toBeGreaterThan(before));

    await emit("network-status", { online: true, since: "2024-05-01T10:01:00Z", checked_at: null, message: null });
    await waitFor(() => expect(screen.queryByTestId("offline-banner")).toBeNull());
  });

  describe("attention banner", () => {
    const healthOf = (...items: ReturnType<typeof health>[]) => () => ({
      checked_at: "2024-05-01T10:06:00Z",
      needs_attention: true,
      connections: items,
    });

    it("asks to sign in again and reconnects from the banner", async () => {
      const answer = deferred<ConnectionView>();
      let books = xeroConnection({ status: "needs_reconnect" });
      let token: "revoked" | "valid" = "revoked";
      const calls = workspace(real, {
        list_connections: () => [connection(), books],
        list_providers: () => [stripe, xero],
        get_health: () =>
          healthOf(health(), health({ connection_id: "conn-x", connection: "Books", token }))(),
        reconnect_connection: () => answer.promise,
      });
      render(App);

      const banner = await screen.findByTestId("attention-banner");
      expect(banner.getAttribute("role")).toBe("alert");
      expect(banner.textContent?.replace(/\s+/g, " ")).toContain("Books needs you to sign in again.");
      expect(banner.textContent).not.toContain("Demo shop");
      const button = await within(banner).findByTestId("attention-reconnect-conn-x");

      await fireEvent.click(button);
      expect(callsOf(calls, "reconnect_connection")).toEqual([
        { input: { connection_id: "conn-x", client_secret: null, account: null, switch_account: false, feature: null } },
      ]);
      expect((await within(banner).findByTestId("attention-reconnect-waiting-conn-x")).textContent).toBe(
        "Waiting for you to approve in your browser…",
      );

      books = xeroConnection();
      token = "valid";
      answer.resolve(books);
      await waitFor(() => expect(screen.queryByTestId("attention-banner")).toBeNull());
    });

    it("names connections without a browser sign-in or a new key too, and shows the connections", async () => {
      workspace(real, {
        list_connections: () => [connection({ status: "needs_reconnect", provider: "paypal", provider_name: "PayPal" })],
        list_providers: () => [stripe, xero],
        get_health: healthOf(health()),
      });
      render(App);
      const banner = await screen.findByTestId("attention-banner");
      expect(banner.textContent?.replace(/\s+/g, " ")).toContain("Demo shop needs you to connect it again.");
      expect(within(banner).queryByRole("button", { name: /Reconnect/ })).toBeNull();

      await fireEvent.click(screen.getByTestId("nav-payments"));
      await fireEvent.click(within(banner).getByTestId("attention-show-connections"));
      expect(screen.getByTestId("nav-connections").getAttribute("aria-current")).toBe("page");
      // Already there: no way to go there again.
      expect(within(screen.getByTestId("attention-banner")).queryByTestId("attention-show-connections")).toBeNull();
    });

    it("warns gently about a sign-in that lapses on a known date", async () => {
      workspace(real, {
        list_connections: () => [xeroConnection({ name: "MYOB books" })],
        list_providers: () => [stripe, xero],
        get_health: healthOf(
          health({ connection_id: "conn-x", token: "expiring", token_lapses_at: "2024-06-01T12:00:00Z" }),
        ),
      });
      render(App);
      const warning = await screen.findByTestId("attention-expiring");
      expect(warning.getAttribute("role")).toBe("status");
      expect(warning.textContent?.replace(/\s+/g, " ")).toContain("MYOB books's sign-in lapses on");
      expect(warning.textContent).toContain("reconnect before then");
      expect(warning.querySelector("time")?.getAttribute("datetime")).toBe("2024-06-01T12:00:00Z");
      expect(await within(warning).findByTestId("attention-reconnect-conn-x")).toBeTruthy();
      expect(screen.queryByTestId("attention-banner")).toBeNull();
    });

    it("stays away while every sign-in is fine", async () => {
      const calls = workspace(real, {
        list_connections: () => [xeroConnection()],
        list_providers: () => [stripe, xero],
        get_health: healthOf(health({ connection_id: "conn-x", token: "valid" })),
      });
      render(App);
      // Health loads with the connections, on any screen (here Payments).
      await waitFor(() => expect(callsOf(calls, "get_health")).toHaveLength(1));
      expect(screen.getByTestId("nav-payments").getAttribute("aria-current")).toBe("page");
      await fireEvent.click(screen.getByTestId("nav-connections"));
      await screen.findByTestId("connection-card");
      expect(screen.queryByTestId("attention-banner")).toBeNull();
      expect(screen.queryByTestId("attention-expiring")).toBeNull();
    });
  });
});
