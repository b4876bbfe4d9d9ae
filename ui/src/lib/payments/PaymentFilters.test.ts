import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { allPayments } from "../api";
import type { PaymentFilter } from "../bindings/PaymentFilter";
import { AppState } from "../state/app.svelte";
import { connection, page, payment } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Args, type Call } from "../../test/ipc";
import { paymentDetail, paymentPage, payout } from "../../test/paymentFixtures";
import { formatMoney } from "../money";
import { paymentFilters } from "./filterState.svelte";
import { PAGE_SIZE } from "./loader.svelte";
import PaymentsView from "./PaymentsView.svelte";

const shop = connection();
const second = connection({ id: "conn-2", name: "Second shop" });
const paypal = connection({ id: "conn-pp", provider: "paypal", provider_name: "PayPal", name: "PayPal EU" });

function appWith(connections = [shop, second, paypal]) {
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  return app;
}

/** Answers every query with `total` matches: a first page of 3 rows; later pages never come. */
function answering(total = 3) {
  return (args: Args) =>
    args.after === null
      ? { items: page(0, 3, 3).items, next_cursor: total > 3 ? "cursor-1" : null, total }
      : new Promise(() => {});
}

function setup(handlers: Record<string, (args: Args) => unknown> = {}, app = appWith()) {
  const calls = mockCommands({ list_payments: answering(), ...handlers });
  const view = render(PaymentsView, { app, ongoconnections: () => {} });
  return { calls, view, app };
}

const filters = (calls: Call[]) => callsOf(calls, "list_payments").map((args) => args.filter as PaymentFilter);
const lastFilter = (calls: Call[]) => filters(calls).at(-1);
const input = (testid: string) => screen.getByTestId(testid) as HTMLInputElement;

async function type(testid: string, value: string) {
  await fireEvent.input(input(testid), { target: { value } });
}

async function choose(testid: string, value: string) {
  await fireEvent.change(screen.getByTestId(testid), { target: { value } });
}

const originalTz = process.env.TZ;

beforeEach(() => paymentFilters.reset());
afterEach(() => {
  process.env.TZ = originalTz ?? "UTC";
});

describe("payment filters", () => {
  it("combines every filter into one PaymentFilter, the first page counted", async () => {
    process.env.TZ = "UTC";
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");

    await choose("payments-filter-provider", "stripe");
    await choose("connection-filter", "conn-2");
    await choose("payments-filter-status", "failed");
    await choose("payments-filter-currency", "USD");
    await fireEvent.input(input("payments-filter-from"), { target: { value: "2024-05-01" } });
    await fireEvent.input(input("payments-filter-to"), { target: { value: "2024-05-31" } });
    await type("payments-filter-min", "10,5");
    await type("payments-filter-max", "100");
    await type("payments-search", "coffee");

    const expected: PaymentFilter = {
      provider: "stripe",
      connection: "conn-2",
      status: "failed",
      currency: "USD",
      from: "2024-05-01T00:00:00Z",
      // The "to" day is included: the filter's `to` is the start of the next day.
      to: "2024-06-01T00:00:00Z",
      min_amount: "10.5",
      max_amount: "100",
      search: "coffee",
    };
    await waitFor(() => expect(lastFilter(calls)).toEqual(expected));
    const last = callsOf(calls, "list_payments").at(-1);
    expect(last).toEqual({ filter: expected, limit: PAGE_SIZE, after: null, withTotal: true });
    expect(screen.queryByTestId("payments-filter-min-error")).toBeNull();
  });

  it("sends the days of the user's time zone, the 'to' day included", async () => {
    process.env.TZ = "America/New_York";
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");

    await fireEvent.input(input("payments-filter-from"), { target: { value: "2024-03-01" } });
    await fireEvent.input(input("payments-filter-to"), { target: { value: "2024-03-09" } });

    // New York is UTC−5 on 1 and 9 March; the day after the 9th starts at 05:00 UTC (DST begins on the 10th at 2 AM).
    await waitFor(() =>
      expect(lastFilter(calls)).toEqual({ ...allPayments(), from: "2024-03-01T05:00:00Z", to: "2024-03-10T05:00:00Z" }),
    );
  });

  it("refuses an end day before the start day, saying so", async () => {
    process.env.TZ = "UTC";
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    await fireEvent.input(input("payments-filter-from"), { target: { value: "2024-05-10" } });
    await fireEvent.input(input("payments-filter-to"), { target: { value: "2024-05-01" } });

    expect(screen.getByTestId("payments-filter-dates-error").textContent).toContain("before the start date");
    expect(input("payments-filter-to").getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(lastFilter(calls)).toEqual({ ...allPayments(), from: "2024-05-10T00:00:00Z" }));
    expect(filters(calls).some((f) => f.to !== null)).toBe(false);
  });

  it("waits for a pause in typing before searching", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    const before = callsOf(calls, "list_payments").length;

    await type("payments-search", "c");
    await type("payments-search", "cof");
    await type("payments-search", "coffee");
    // Nothing is asked while the user types.
    expect(callsOf(calls, "list_payments")).toHaveLength(before);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(callsOf(calls, "list_payments")).toHaveLength(before);

    await waitFor(() => expect(callsOf(calls, "list_payments")).toHaveLength(before + 1));
    expect(lastFilter(calls)).toEqual({ ...allPayments(), search: "coffee" });
    // One query for the whole word, none for what was typed on the way.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(filters(calls).map((f) => f.search)).toEqual([null, "coffee"]);
  });

  it("searches at once on Enter", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    await type("payments-search", "acme");
    await fireEvent.keyDown(input("payments-search"), { key: "Enter" });
    expect(lastFilter(calls)).toEqual({ ...allPayments(), search: "acme" });
  });

  it("shows the count of what matches", async () => {
    const { calls } = setup({
      list_payments: (args) =>
        (args.filter as PaymentFilter).status === "pending"
          ? paymentPage([payment(7, { status: "pending" })])
          : answering(1234)(args),
    });
    await waitFor(() => expect(screen.getByTestId("payments-count").textContent?.trim()).toBe("1,234 payments"));
    expect(screen.getByTestId("payments-table").dataset.total).toBe("1234");

    await choose("payments-filter-status", "pending");
    await waitFor(() => expect(screen.getByTestId("payments-count").textContent?.trim()).toBe("1 payment"));
    expect(lastFilter(calls)).toEqual({ ...allPayments(), status: "pending" });
  });

  it("says plainly when an amount is not a number, and leaves it out", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    await choose("payments-filter-currency", "EUR");
    await type("payments-filter-min", "ten");

    const error = screen.getByTestId("payments-filter-min-error");
    expect(error.textContent).toContain("“ten” is not an amount");
    expect(input("payments-filter-min").getAttribute("aria-invalid")).toBe("true");
    expect(input("payments-filter-min").getAttribute("aria-describedby")).toBe(error.id);

    await type("payments-filter-max", "20");
    await waitFor(() => expect(lastFilter(calls)).toEqual({ ...allPayments(), currency: "EUR", max_amount: "20" }));
    expect(filters(calls).some((f) => f.min_amount !== null)).toBe(false);

    await type("payments-filter-min", "12.50");
    expect(screen.queryByTestId("payments-filter-min-error")).toBeNull();
    await waitFor(() =>
      expect(lastFilter(calls)).toEqual({ ...allPayments(), currency: "EUR", min_amount: "12.50", max_amount: "20" }),
    );
  });

  it("clears every filter at once and puts the cursor in the search box", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    const clear = screen.getByTestId("payments-filter-clear") as HTMLButtonElement;
    expect(clear.disabled).toBe(true);

    await choose("payments-filter-status", "failed");
    await type("payments-filter-min", "5");
    await type("payments-search", "acme");
    await waitFor(() => expect(lastFilter(calls)).toEqual({ ...allPayments(), status: "failed", min_amount: "5", search: "acme" }));
    expect(clear.disabled).toBe(false);

    await fireEvent.click(clear);
    expect(lastFilter(calls)).toEqual(allPayments());
    expect(input("payments-search").value).toBe("");
    expect(input("payments-filter-min").value).toBe("");
    expect((screen.getByTestId("payments-filter-status") as HTMLSelectElement).value).toBe("");
    expect(document.activeElement).toBe(input("payments-search"));
  });

  it("says when nothing matches the filters, unlike when there is no data, and offers to clear them", async () => {
    const { calls } = setup({
      list_payments: (args) =>
        (args.filter as PaymentFilter).search === "zebra" ? paymentPage([], 0) : answering(3)(args),
    });
    await screen.findAllByTestId("payment-row");
    await type("payments-search", "zebra");

    const empty = await screen.findByTestId("payments-empty-filtered");
    expect(empty.textContent).toContain("No payments match these filters");
    expect(screen.queryByTestId("payments-empty")).toBeNull();
    expect(screen.getByTestId("payments-count").textContent?.trim()).toBe("0 payments");

    await fireEvent.click(within(empty).getByTestId("payments-empty-clear"));
    expect(lastFilter(calls)).toEqual(allPayments());
    expect(await screen.findAllByTestId("payment-row")).toHaveLength(3);
  });

  it("keeps the filter when the screen is left and opened again", async () => {
    const first = setup();
    await screen.findAllByTestId("payment-row");
    await choose("payments-filter-status", "failed");
    await type("payments-search", "acme");
    await fireEvent.keyDown(input("payments-search"), { key: "Enter" });
    first.view.unmount();
    cleanup();

    const calls = mockCommands({ list_payments: answering() });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");
    expect((screen.getByTestId("payments-filter-status") as HTMLSelectElement).value).toBe("failed");
    expect(input("payments-search").value).toBe("acme");
    // The first query of the new screen already has the filter; nothing waits for typing.
    expect(filters(calls)).toEqual([{ ...allPayments(), status: "failed", search: "acme" }]);
  });

  it("forgets the filter made in another workspace", async () => {
    const app = appWith();
    app.workspace = { kind: "demo", path: "/data/demo" };
    const first = setup({}, app);
    await screen.findAllByTestId("payment-row");
    await choose("payments-filter-status", "failed");
    first.view.unmount();
    cleanup();

    app.workspace = { kind: "real", path: "/data/real" };
    const calls = mockCommands({ list_payments: answering() });
    render(PaymentsView, { app, ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");
    expect(filters(calls)).toEqual([allPayments()]);
  });

  it("offers providers and connections from the app's connections, a provider narrowing the connections", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payment-row");
    const providers = screen.getByTestId("payments-filter-provider") as HTMLSelectElement;
    expect([...providers.options].map((o) => o.textContent?.trim())).toEqual(["All providers", "PayPal", "Stripe"]);

    await choose("connection-filter", "conn-2");
    await choose("payments-filter-provider", "paypal");
    const connections = screen.getByTestId("connection-filter") as HTMLSelectElement;
    expect([...connections.options].map((o) => o.textContent?.trim())).toEqual(["All connections", "PayPal EU"]);
    // The chosen Stripe connection does not fit PayPal: it is dropped, not silently kept.
    await waitFor(() => expect(lastFilter(calls)).toEqual({ ...allPayments(), provider: "paypal" }));
  });

  it("offers the usual statuses and currencies plus those the loaded rows show", async () => {
    setup({ list_payments: () => paymentPage([payment(0, { currency: "ISK", currency_exponent: 0, status: "disputed" })]) });
    await screen.findAllByTestId("payment-row");
    const values = (testid: string) =>
      [...(screen.getByTestId(testid) as HTMLSelectElement).options].map((o) => o.value);
    await waitFor(() => expect(values("payments-filter-currency")).toContain("ISK"));
    expect(values("payments-filter-currency")).toEqual(expect.arrayContaining(["", "EUR", "USD", "GBP"]));
    expect(values("payments-filter-status")).toEqual(["", "succeeded", "pending", "failed", "unknown", "disputed"]);
  });

  it("makes the search box the target of the / shortcut", async () => {
    setup();
    await screen.findAllByTestId("payment-row");
    const targets = document.querySelectorAll("[data-shortcut-search]");
    expect(targets).toHaveLength(1);
    expect(targets[0]).toBe(input("payments-search"));
    expect(input("payments-search").getAttribute("aria-keyshortcuts")).toBe("/");
  });
});

describe("CSV export", () => {
  it("exports what the filter selects and says where the file went", async () => {
    const written = deferred<{ path: string; count: number }>();
    const { calls } = setup({ export_payments_csv: () => written.promise, list_payments: answering(1234) });
    await screen.findAllByTestId("payment-row");
    await choose("payments-filter-currency", "EUR");
    await type("payments-search", "coffee");

    const button = screen.getByTestId("payments-export") as HTMLButtonElement;
    await fireEvent.click(button);
    // What was typed counts even before the pause is over.
    expect(callsOf(calls, "export_payments_csv")).toEqual([
      { filter: { ...allPayments(), currency: "EUR", search: "coffee" } },
    ]);
    expect(button.disabled).toBe(true);
    expect(button.textContent).toContain("Exporting…");

    written.resolve({ path: "/home/me/Downloads/switchboard-payments.csv", count: 1234 });
    const notice = await screen.findByTestId("payments-export-notice");
    expect(notice.textContent).toContain("Exported 1,234 payments to /home/me/Downloads/switchboard-payments.csv");
    expect(notice.getAttribute("role")).toBe("status");
    expect(button.disabled).toBe(false);
    expect(button.textContent).toContain("Export CSV");
  });

  it("shows why an export failed, with Retry", async () => {
    let fail = true;
    const { calls } = setup({
      export_payments_csv: () =>
        fail
          ? Promise.reject({ code: "storage", message: "The Downloads folder is not writable.", retryable: true })
          : { path: "/tmp/payments.csv", count: 3 },
    });
    await screen.findAllByTestId("payment-row");
    await fireEvent.click(screen.getByTestId("payments-export"));

    const error = await screen.findByTestId("payments-export-error");
    expect(within(error).getByRole("alert").textContent).toContain("The Downloads folder is not writable.");
    expect(screen.queryByTestId("payments-export-notice")).toBeNull();

    fail = false;
    await fireEvent.click(within(error).getByRole("button", { name: "Retry" }));
    expect((await screen.findByTestId("payments-export-notice")).textContent).toContain("Exported 3 payments to /tmp/payments.csv");
    expect(screen.queryByTestId("payments-export-error")).toBeNull();
    expect(callsOf(calls, "export_payments_csv")).toHaveLength(2);
  });
});

describe("opening a payment from elsewhere", () => {
  it("opens the drawer of a payment by id, even one not in the loaded rows", async () => {
    const calls = mockCommands({
      list_payments: answering(),
      get_payment: () => paymentDetail(99, { payment: payment(99, { amount_minor: 5000 }) }),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {}, openPaymentId: "pay-99" });

    const drawer = await screen.findByTestId("payment-drawer");
    expect(callsOf(calls, "get_payment")).toEqual([{ id: "pay-99" }]);
    await waitFor(() => expect(within(drawer).getByTestId("external-id").textContent).toBe("ch_99"));
    expect(within(drawer).getByRole("heading", { level: 2 }).textContent).toContain(formatMoney(5000, "EUR", 2));
    await fireEvent.click(within(drawer).getByRole("button", { name: "Close details" }));
    expect(screen.queryByTestId("payment-drawer")).toBeNull();
  });

  it("asks the parent to show the payout that carried a payment", async () => {
    const onopenpayout = vi.fn();
    mockCommands({
      list_payments: answering(),
      get_payment: () => paymentDetail(1, { payout: payout({ id: "payout-7" }) }),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {}, onopenpayout });
    await fireEvent.click((await screen.findAllByTestId("payment-row"))[1]!);
    await fireEvent.click(await screen.findByTestId("open-payout"));
    expect(onopenpayout).toHaveBeenCalledWith("payout-7");
  });
});
