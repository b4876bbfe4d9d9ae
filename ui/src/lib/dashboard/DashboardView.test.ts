import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import { formatMoney } from "../money";
import { AppState } from "../state/app.svelte";
import { connection, xeroConnection } from "../../test/fixtures";
import { dashboard, emptyDashboard, paymentRequest, totalsRow } from "../../test/dashboardFixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import { formatPeriod } from "./period";
import DashboardView from "./DashboardView.svelte";

// jsdom has no canvas: the chart library is replaced by a recorder of what it is given.
const charts = vi.hoisted(() => ({
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  created: [] as any[],
  destroyed: 0,
  registered: [] as unknown[],
}));
vi.mock("chart.js", () => {
  class Chart {
    static register(...items: unknown[]) {
      charts.registered.push(...items);
    }
    constructor(_canvas: unknown, config: unknown) {
      charts.created.push(config);
    }
    destroy() {
      charts.destroyed += 1;
    }
  }
  const piece = (name: string) => ({ id: name });
  return {
    Chart,
    BarController: piece("bar"),
    BarElement: piece("barElement"),
    CategoryScale: piece("category"),
    LinearScale: piece("linear"),
    Tooltip: piece("tooltip"),
    Legend: piece("legend"),
  };
});

const MAY_15 = new Date(2024, 4, 15, 9, 30);

function setup(handlers: Record<string, Handler> = {}, connections: ConnectionView[] = [connection()]) {
  const calls = mockCommands({
    get_dashboard: () => dashboard(),
    list_payment_requests: () => [],
    ...handlers,
  });
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const ongoconnections = vi.fn();
  render(DashboardView, { app, ongoconnections, today: MAY_15 });
  return { app, calls, ongoconnections };
}

const eur = (minor: number) => formatMoney(minor, "EUR", 2);
const jpy = (minor: number) => formatMoney(minor, "JPY", 0);
const text = (el: HTMLElement) => el.textContent?.replace(/\s+/g, " ").trim() ?? "";

async function choosePeriod(value: string) {
  await fireEvent.change(screen.getByTestId("dashboard-period"), { target: { value } });
}

describe("dashboard", () => {
  it("asks for this month and shows one card per currency, never adding currencies up", async () => {
    const { calls } = setup();
    const cards = await screen.findAllByTestId("dashboard-currency-card");
    expect(callsOf(calls, "get_dashboard")).toEqual([{ from: "2024-05-01", to: "2024-05-31" }]);
    expect((screen.getByTestId("dashboard-period") as HTMLSelectElement).value).toBe("this_month");

    expect(cards.map((c) => c.dataset.currency)).toEqual(["EUR", "JPY"]);
    const [euro, yen] = cards as [HTMLElement, HTMLElement];
    expect(within(euro).getByTestId("dashboard-gross").textContent).toBe(eur(10_000));
    expect(within(euro).getByTestId("dashboard-fees").textContent).toBe(eur(-320));
    expect(within(euro).getByTestId("dashboard-refunds").textContent).toBe(eur(-1_500));
    expect(within(euro).getByTestId("dashboard-net").textContent).toBe(eur(8_180));
    expect(within(euro).getByTestId("dashboard-payouts").textContent).toBe(eur(7_000));
    expect(text(euro)).toContain("3 payments");
    expect(text(euro)).toContain("1 refund");

    // JPY has no decimals: the exponent comes with the row.
    expect(within(yen).getByTestId("dashboard-gross").textContent).toBe(jpy(12_000));
    expect(within(yen).getByTestId("dashboard-net").textContent).toBe(jpy(11_600));
    expect(within(yen).getByTestId("dashboard-refunds").textContent).toBe(jpy(0));
    // No total across currencies anywhere.
    expect(document.body.textContent).not.toContain(eur(22_000));
  });

  it("asks for the chosen period: last month, this year, last year", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("dashboard-currency-card");

    await choosePeriod("last_month");
    await choosePeriod("this_year");
    await choosePeriod("last_year");
    await waitFor(() => expect(callsOf(calls, "get_dashboard")).toHaveLength(4));
    expect(callsOf(calls, "get_dashboard").slice(1)).toEqual([
      { from: "2024-04-01", to: "2024-04-30" },
      { from: "2024-01-01", to: "2024-12-31" },
      { from: "2023-01-01", to: "2023-12-31" },
    ]);
  });

  it("asks for custom days once they are applied, and refuses a backwards range", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("dashboard-currency-card");

    await choosePeriod("custom");
    // Nothing changes until Show; the fields start from what is shown.
    expect(callsOf(calls, "get_dashboard")).toHaveLength(1);
    const from = screen.getByTestId("dashboard-from") as HTMLInputElement;
    const to = screen.getByTestId("dashboard-to") as HTMLInputElement;
    expect(from.value).toBe("2024-05-01");
    expect(to.value).toBe("2024-05-31");

    await fireEvent.input(from, { target: { value: "2024-03-10" } });
    await fireEvent.input(to, { target: { value: "2024-03-01" } });
    await fireEvent.click(screen.getByTestId("dashboard-apply"));
    expect(screen.getByTestId("dashboard-range-problem").textContent).toContain("must not be after");
    expect(from.getAttribute("aria-invalid")).toBe("true");
    expect(callsOf(calls, "get_dashboard")).toHaveLength(1);

    await fireEvent.input(to, { target: { value: "2024-03-20" } });
    // Enter in a field submits.
    await fireEvent.submit(to.form!);
    await waitFor(() => expect(callsOf(calls, "get_dashboard")).toHaveLength(2));
    expect(callsOf(calls, "get_dashboard")[1]).toEqual({ from: "2024-03-10", to: "2024-03-20" });
    expect(screen.queryByTestId("dashboard-range-problem")).toBeNull();
  });

  it("shows only the answer for the latest period when answers cross", async () => {
    const slow = deferred<ReturnType<typeof dashboard>>();
    let n = 0;
    setup({
      get_dashboard: () => (++n === 1 ? slow.promise : dashboard({ by_currency: [totalsRow({ currency: "GBP" })] })),
    });
    await choosePeriod("last_month");
    await waitFor(() => expect(screen.getAllByTestId("dashboard-currency-card")[0]!.dataset.currency).toBe("GBP"));
    slow.resolve(dashboard());
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.getAllByTestId("dashboard-currency-card").map((c) => c.dataset.currency)).toEqual(["GBP"]);
  });

  it("lists each provider and currency", async () => {
    setup();
    const rows = await screen.findAllByTestId("dashboard-provider-row");
    expect(rows.map((r) => `${r.dataset.provider}:${r.dataset.currency}`)).toEqual([
      "stripe:EUR",
      "paypal:EUR",
      "square:JPY",
    ]);
    const cells = (row: HTMLElement) => Array.from(row.querySelectorAll("th, td")).map((c) => c.textContent?.trim());
    expect(cells(rows[0]!)).toEqual(["Stripe", "EUR", "2", eur(7_000), eur(-220), eur(-1_500), eur(5_280), eur(7_000)]);
    expect(cells(rows[1]!)[0]).toBe("PayPal");
    expect(cells(rows[2]!)).toEqual(["Square", "JPY", "2", jpy(12_000), jpy(-400), jpy(0), jpy(11_600), jpy(0)]);
  });

  it("charts gross and net per period of one currency, in exact minor units", async () => {
    charts.created.length = 0;
    setup();
    const chart = await screen.findByTestId("dashboard-chart");
    expect(chart.dataset.currency).toBe("EUR");
    await waitFor(() => expect(charts.created.length).toBeGreaterThan(0));
    let config = charts.created.at(-1);
    expect(config.type).toBe("bar");
    expect(config.data.labels).toEqual([formatPeriod("2024-05-02", "day"), formatPeriod("2024-05-09", "day")]);
    expect(config.data.datasets.map((d: { label: string }) => d.label)).toEqual(["Gross", "Net"]);
    expect(config.data.datasets[0].data).toEqual([4_000, 6_000]);
    expect(config.data.datasets[1].data).toEqual([3_800, 4_380]);
    // Axis and tooltips show money in the chart's currency.
    expect(config.options.scales.y.ticks.callback(150_000)).toBe(eur(150_000));
    expect(config.options.scales.y.ticks.precision).toBe(0);
    expect(
      config.options.plugins.tooltip.callbacks.label({ dataset: { label: "Net" }, parsed: { y: 4_380 } }),
    ).toBe(`Net: ${eur(4_380)}`);
    // Only the pieces in use are registered.
    expect(charts.registered.map((p) => (p as { id: string }).id).sort()).toEqual(
      ["bar", "barElement", "category", "legend", "linear", "tooltip"],
    );
    // The same figures for screen readers.
    expect(text(chart)).toContain(eur(6_000));

    const destroyedBefore = charts.destroyed;
    await fireEvent.change(screen.getByTestId("dashboard-chart-currency"), { target: { value: "JPY" } });
    await waitFor(() => expect(screen.getByTestId("dashboard-chart").dataset.currency).toBe("JPY"));
    config = charts.created.at(-1);
    expect(config.data.datasets[0].data).toEqual([12_000]);
    expect(config.data.datasets[1].data).toEqual([11_600]);
    expect(config.options.scales.y.ticks.callback(12_000)).toBe(jpy(12_000));
    expect(charts.destroyed).toBeGreaterThan(destroyedBefore);
  });

  it("offers no currency choice with one currency", async () => {
    setup({ get_dashboard: () => dashboard({ by_currency: [totalsRow()] }) });
    await screen.findByTestId("dashboard-chart");
    expect(screen.queryByTestId("dashboard-chart-currency")).toBeNull();
  });

  it("says when a period has no money in it, keeping the period picker", async () => {
    setup({ get_dashboard: () => emptyDashboard() });
    const empty = await screen.findByTestId("dashboard-empty");
    expect(empty.textContent).toContain("No payments in this period");
    expect(screen.queryByTestId("dashboard-currency-card")).toBeNull();
    expect(screen.queryByTestId("dashboard-chart")).toBeNull();
    expect(screen.getByTestId("dashboard-period")).toBeTruthy();
  });

  it("sends a workspace without a payment connection to Connections", async () => {
    const { calls, ongoconnections } = setup({}, [xeroConnection()]);
    const empty = screen.getByTestId("dashboard-no-connection");
    expect(empty.textContent).toContain("Connect Stripe, PayPal or Square to see your takings here");
    await fireEvent.click(within(empty).getByRole("button", { name: "Go to Connections" }));
    expect(ongoconnections).toHaveBeenCalledOnce();
    expect(callsOf(calls, "get_dashboard")).toHaveLength(0);
    expect(screen.queryByTestId("request-payment")).toBeNull();
  });

  it("shows an error with Retry", async () => {
    let fail = true;
    const { calls } = setup({
      get_dashboard: () =>
        fail ? Promise.reject({ code: "database", message: "The database is busy.", retryable: true }) : dashboard(),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The database is busy.");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("dashboard-currency-card")).toHaveLength(2);
    expect(callsOf(calls, "get_dashboard")).toHaveLength(2);
  });

  it("reloads when synced data changes", async () => {
    const { app, calls } = setup();
    await screen.findAllByTestId("dashboard-currency-card");
    app.dataVersion += 1;
    await waitFor(() => expect(callsOf(calls, "get_dashboard")).toHaveLength(2));
  });

  it("lists the latest payment requests with their status and link", async () => {
    const { calls } = setup({
      open_payment_request: () => null,
      list_payment_requests: () => [
        paymentRequest(),
        paymentRequest({ id: "req-2", status: "queued", url: null, description: "Quote 42", connection: "Shop", fallback_from: "Main" }),
        paymentRequest({ id: "req-3", status: "failed", url: null, error: "Stripe refused the currency." }),
      ],
    });
    const rows = await screen.findAllByTestId("payment-request-row");
    expect(callsOf(calls, "list_payment_requests")).toEqual([{ limit: 20 }]);
    expect(rows.map((r) => r.dataset.status)).toEqual(["created", "queued", "failed"]);
    expect(text(rows[0]!)).toContain("Link ready");
    expect(text(rows[0]!)).toContain(eur(1_250));
    // Open asks Rust to open the stored link in the system browser.
    await fireEvent.click(within(rows[0]!).getByRole("button", { name: /Open the link/ }));
    await waitFor(() => expect(callsOf(calls, "open_payment_request")).toEqual([{ id: "req-1" }]));
    expect(within(rows[0]!).getByRole("button", { name: "Copy the link for Deposit" })).toBeTruthy();
    expect(text(rows[1]!)).toContain("Not yet");
    expect(text(rows[1]!)).toContain("(instead of Main)");
    expect(text(rows[2]!)).toContain("Stripe refused the currency.");
  });

  it("has Request payment in its header, and lists the new request after it is made", async () => {
    let made = false;
    const { calls } = setup({
      list_payment_requests: () => (made ? [paymentRequest()] : []),
      payment_request_options: () => [
        { connection_id: "conn-1", connection: "Main", provider: "stripe", available: true, unavailable_reason: null },
      ],
      request_payment: () => {
        made = true;
        return paymentRequest();
      },
    });
    await screen.findByTestId("payment-requests-empty");
    const header = screen.getByRole("banner");
    await fireEvent.click(within(header).getByTestId("request-payment"));
    const dialog = await screen.findByTestId("request-payment-dialog");
    await screen.findByTestId("request-connection");
    // The dialog offers the business's own currencies first.
    expect((within(dialog).getByTestId("request-currency") as HTMLSelectElement).value).toBe("EUR");
    await fireEvent.input(within(dialog).getByTestId("request-amount"), { target: { value: "12.50" } });
    await fireEvent.input(within(dialog).getByTestId("request-description"), { target: { value: "Deposit" } });
    await fireEvent.click(within(dialog).getByTestId("request-submit"));
    await screen.findByTestId("request-link");
    await waitFor(() => expect(callsOf(calls, "list_payment_requests")).toHaveLength(2));
    expect(await screen.findAllByTestId("payment-request-row")).toHaveLength(1);
  });
});
