import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";
import { allPayments } from "../api";
import { AppState } from "../state/app.svelte";
import { connection, page, payment } from "../../test/fixtures";
import { callsOf, mockCommands } from "../../test/ipc";
import { paymentDetail } from "../../test/paymentFixtures";
import { formatMoney } from "../money";
import { paymentFilters } from "./filterState.svelte";
import { PAGE_SIZE, ROW_HEIGHT } from "./loader.svelte";
import PaymentsView from "./PaymentsView.svelte";

const TOTAL = 100_000;

function appWith(connections = [connection(), connection({ id: "conn-2", name: "Second shop" })]) {
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  return app;
}

/** Serves keyset pages of a `total`-row result; cursors "cursor-N" lead to page N. */
function pagedPayments(total: number) {
  return (args: Record<string, unknown>) => {
    const after = args.after as string | null;
    const n = after === null ? 0 : Number(after.replace("cursor-", ""));
    return page(n, args.limit as number, total);
  };
}

function scrollTo(grid: HTMLElement, top: number) {
  // jsdom has no layout, so scrollTop is given to the element directly.
  Object.defineProperty(grid, "scrollTop", { configurable: true, writable: true, value: top });
  fireEvent.scroll(grid);
}

beforeEach(() => paymentFilters.reset());

describe("payments table", () => {
  it("keeps at most a couple of hundred rows in the DOM at 100k payments", async () => {
    const calls = mockCommands({ list_payments: pagedPayments(TOTAL) });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });

    const rows = await screen.findAllByTestId("payment-row");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThanOrEqual(200);
    expect(callsOf(calls, "list_payments")).toEqual([
      { filter: allPayments(), limit: PAGE_SIZE, after: null, withTotal: true },
    ]);

    const grid = screen.getByTestId("payments-table");
    expect(grid.getAttribute("aria-rowcount")).toBe(String(TOTAL + 1));
    // The spacer gives the scrollbar the height of all rows.
    const body = grid.querySelector<HTMLElement>(".body")!;
    expect(body.style.height).toBe(`${TOTAL * ROW_HEIGHT}px`);
    expect(rows[0]!.dataset.externalId).toBe("ch_0");
    expect(within(rows[0]!).getByTestId("amount").textContent).toBe(formatMoney(1234, "EUR", 2));
    expect(screen.getByTestId("payments-count").textContent?.trim()).toBe("100,000 payments");
  });

  it("loads the next page with the cursor when scrolled towards it", async () => {
    const calls = mockCommands({ list_payments: pagedPayments(TOTAL) });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");
    const grid = screen.getByTestId("payments-table");

    scrollTo(grid, 170 * ROW_HEIGHT);

    await waitFor(() =>
      expect(callsOf(calls, "list_payments")).toContainEqual({
        filter: allPayments(),
        limit: PAGE_SIZE,
        after: "cursor-1",
        // The count comes from the first page only.
        withTotal: false,
      }),
    );
    await waitFor(() =>
      expect(document.querySelector('[data-external-id="ch_201"]')).not.toBeNull(),
    );
    const rows = screen.getAllByTestId("payment-row");
    expect(rows.length).toBeLessThanOrEqual(200);
    // Rows far above the view are gone from the DOM.
    expect(document.querySelector('[data-external-id="ch_0"]')).toBeNull();
    // Pages are fetched in order and only as far as needed.
    expect(callsOf(calls, "list_payments").map((a) => a.after)).toEqual([null, "cursor-1"]);
  });

  it("shows loading rows for rows whose page has not arrived", async () => {
    mockCommands({
      list_payments: (args) =>
        args.after === null ? page(0, PAGE_SIZE, TOTAL) : new Promise(() => {}),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");

    scrollTo(screen.getByTestId("payments-table"), 50_000 * ROW_HEIGHT);

    const loading = await screen.findAllByTestId("payment-row-loading");
    expect(loading.length).toBeGreaterThan(10);
    expect(loading.length).toBeLessThanOrEqual(200);
    expect(screen.queryAllByTestId("payment-row")).toHaveLength(0);
  });

  it("filters by connection", async () => {
    const calls = mockCommands({ list_payments: pagedPayments(10) });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");

    await fireEvent.change(screen.getByTestId("connection-filter"), { target: { value: "conn-2" } });

    await waitFor(() =>
      expect(callsOf(calls, "list_payments")).toContainEqual({
        filter: { ...allPayments(), connection: "conn-2" },
        limit: PAGE_SIZE,
        after: null,
        withTotal: true,
      }),
    );
  });

  it("moves the selection with the arrow keys, opens the drawer with Enter and closes it with Esc", async () => {
    const calls = mockCommands({
      list_payments: pagedPayments(5),
      get_payment: (args) => ({
        ...paymentDetail(1),
        payment: payment(1, { refunded_minor: 500 }),
        refunds: [
          {
            external_id: "re_1",
            amount_minor: 500,
            currency: "EUR",
            currency_exponent: 2,
            status: "succeeded",
            reason: "requested_by_customer",
            created_at: "2024-05-02T10:00:00Z",
          },
        ],
        settlement: {
          external_id: "txn_1",
          amount_minor: 1300,
          fee_minor: 70,
          net_minor: 1230,
          currency: "USD",
          currency_exponent: 2,
          status: "available",
          available_on: "2024-05-03T00:00:00Z",
          payout_id: "po_1",
          fee_lines: [
            { amount_minor: 70, currency: "USD", currency_exponent: 2, kind: "stripe_fee", description: "Stripe processing fees" },
          ],
        },
        raw_json: `{\n  "id": "ch_1",\n  "id_for": "${String(args.id)}"\n}`,
      }),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    await screen.findAllByTestId("payment-row");
    const grid = screen.getByTestId("payments-table");

    grid.focus();
    await fireEvent.keyDown(grid, { key: "ArrowDown" });
    await fireEvent.keyDown(grid, { key: "ArrowDown" });
    const selected = grid.querySelector('[aria-selected="true"]') as HTMLElement;
    expect(selected.dataset.externalId).toBe("ch_1");
    expect(grid.getAttribute("aria-activedescendant")).toBe(selected.id);

    await fireEvent.keyDown(grid, { key: "Enter" });
    const drawer = await screen.findByTestId("payment-drawer");
    expect(callsOf(calls, "get_payment")).toEqual([{ id: "pay-1" }]);
    expect(await within(drawer).findByTestId("settlement-currency-note")).toBeTruthy();
    expect(within(drawer).getByTestId("external-id").textContent).toBe("ch_1");
    expect(within(drawer).getByText("Stripe processing fees")).toBeTruthy();
    expect(within(drawer).getByTestId("refunds").textContent).toContain(formatMoney(500, "EUR", 2));
    expect(within(drawer).getByTestId("raw-json").textContent).toContain('"id_for": "pay-1"');

    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("payment-drawer")).toBeNull();
  });

  it("shows refunds and missing fees on the row", async () => {
    mockCommands({
      list_payments: () => ({
        items: [payment(0, { refunded_minor: 1234, fee_minor: null, net_minor: null, currency: "JPY", currency_exponent: 0 })],
        next_cursor: null,
        total: 1,
      }),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });
    const row = await screen.findByTestId("payment-row");
    expect(within(row).getByTestId("amount").textContent).toBe(formatMoney(1234, "JPY", 0));
    expect(row.textContent).toContain(`Refunded ${formatMoney(1234, "JPY", 0)}`);
    expect(row.textContent).toContain("—");
  });

  it("says what to do when there are no payments", async () => {
    mockCommands({ list_payments: () => ({ items: [], next_cursor: null, total: 0 }) });
    let went = false;
    render(PaymentsView, { app: appWith([]), ongoconnections: () => (went = true) });

    const empty = await screen.findByTestId("payments-empty");
    expect(empty.textContent).toContain(
      "Connect a payment provider and run a sync to see payments here",
    );
    expect(screen.queryByTestId("payments-table")).toBeNull();
    await fireEvent.click(within(empty).getByRole("button", { name: "Go to Connections" }));
    expect(went).toBe(true);
  });

  it("shows a failed page's error with Retry when retrying may help", async () => {
    let fail = true;
    mockCommands({
      list_payments: (args) =>
        fail
          ? Promise.reject({ code: "storage", message: "The database is busy. Try again.", retryable: true })
          : pagedPayments(3)(args),
    });
    render(PaymentsView, { app: appWith(), ongoconnections: () => {} });

    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The database is busy. Try again.");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("payment-row")).toHaveLength(3);
  });
});
