import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { callsOf, mockCommands, type Handler } from "../../test/ipc";
import { connection, payout, payoutDetail, payoutEntry, payoutPage } from "../../test/paymentFixtures";
import { formatMoney } from "../money";
import { formatDate } from "../time";
import PayoutsView from "./PayoutsView.svelte";

const connections = [connection(), connection({ id: "conn-sq", provider: "square", provider_name: "Square", name: "Café till" })];

const adds = payout({ id: "payout-1", external_id: "po_ok", difference_minor: 0 });
const off = payout({
  id: "payout-2",
  external_id: "po_off",
  amount_minor: 20_000,
  entries_net_minor: 19_900,
  difference_minor: 100,
  status: "in_transit",
  arrival_date: "2024-05-09T00:00:00Z",
});
const none = payout({
  id: "payout-3",
  external_id: "po_none",
  connection: "Café till",
  connection_id: "conn-sq",
  provider: "square",
  entries: 0,
  entries_net_minor: 0,
  difference_minor: null,
});

function setup(handlers: Record<string, Handler> = {}, props: Record<string, unknown> = {}) {
  const calls = mockCommands({
    list_payouts: () => payoutPage([off, adds, none]),
    get_payout: (args) => payoutDetail({ payout: [adds, off, none].find((p) => p.id === args.id) ?? adds }),
    ...handlers,
  });
  const onopenpayment = vi.fn();
  render(PayoutsView, { connections, onopenpayment, ...props });
  return { calls, onopenpayment };
}

const row = (externalId: string) =>
  screen.getAllByTestId("payout-row").find((r) => r.dataset.externalId === externalId)!;

describe("payouts list", () => {
  it("lists payouts newest first with amount, status, arrival, connection and whether they add up", async () => {
    const { calls } = setup();
    const rows = await screen.findAllByTestId("payout-row");
    expect(rows.map((r) => r.dataset.externalId)).toEqual(["po_off", "po_ok", "po_none"]);
    expect(callsOf(calls, "list_payouts")).toEqual([{ connection: null, limit: 100, after: null }]);

    const offRow = row("po_off");
    expect(offRow.textContent).toContain(formatMoney(20_000, "EUR", 2));
    expect(offRow.textContent).toContain("In transit");
    expect(offRow.textContent).toContain(formatDate("2024-05-09T00:00:00Z"));
    expect(offRow.textContent).toContain("Demo shop");

    const badge = (externalId: string) => within(row(externalId)).getByTestId("payout-difference");
    expect(badge("po_ok").dataset.state).toBe("ok");
    expect(badge("po_ok").textContent?.trim()).toBe("Adds up");
    expect(badge("po_off").dataset.state).toBe("off");
    expect(badge("po_off").textContent?.trim()).toBe(`Off by ${formatMoney(100, "EUR", 2)}`);
    // Off is highlighted as something to look at.
    expect(badge("po_off").querySelector(".chip.bad")).not.toBeNull();
    expect(badge("po_none").dataset.state).toBe("none");
    expect(badge("po_none").textContent?.trim()).toBe("No breakdown");
    expect(row("po_none").textContent).toContain("Café till");
  });

  it("pages back with the cursor, keeping what is shown", async () => {
    const older = payout({ id: "payout-old", external_id: "po_old" });
    const { calls } = setup({
      list_payouts: (args) => (args.after === null ? payoutPage([adds], "cur-2") : payoutPage([older])),
    });
    await screen.findAllByTestId("payout-row");
    await fireEvent.click(screen.getByTestId("payouts-more"));
    await waitFor(() => expect(screen.getAllByTestId("payout-row")).toHaveLength(2));
    expect(screen.getAllByTestId("payout-row").map((r) => r.dataset.externalId)).toEqual(["po_ok", "po_old"]);
    expect(callsOf(calls, "list_payouts")).toEqual([
      { connection: null, limit: 100, after: null },
      { connection: null, limit: 100, after: "cur-2" },
    ]);
    expect(screen.queryByTestId("payouts-more")).toBeNull();
  });

  it("filters by connection", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payout-row");
    await fireEvent.change(screen.getByTestId("connection-filter"), { target: { value: "conn-sq" } });
    await waitFor(() =>
      expect(callsOf(calls, "list_payouts")).toContainEqual({ connection: "conn-sq", limit: 100, after: null }),
    );
  });

  it("says when there are no payouts yet, and what brings them", async () => {
    setup({ list_payouts: () => payoutPage([]) });
    const empty = await screen.findByTestId("payouts-empty");
    expect(empty.textContent).toContain("No payouts yet — they appear after a sync of Stripe or Square.");
    expect(screen.queryByTestId("payout-row")).toBeNull();
  });

  it("shows a failed load with Retry", async () => {
    let fail = true;
    setup({
      list_payouts: () =>
        fail ? Promise.reject({ code: "storage", message: "The database is busy.", retryable: true }) : payoutPage([adds]),
    });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The database is busy.");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("payout-row")).toHaveLength(1);
  });
});

describe("payout detail", () => {
  it("shows every entry, the totals and that it adds up", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("payout-row");
    await fireEvent.click(within(row("po_ok")).getByRole("button", { name: /Open payout/ }));

    const detail = await screen.findByTestId("payout-detail");
    const entries = await within(detail).findAllByTestId("payout-entry");
    expect(callsOf(calls, "get_payout")).toEqual([{ id: "payout-1" }]);
    expect(entries).toHaveLength(2);
    const cells = (entry: HTMLElement) => [...entry.querySelectorAll("td")].map((td) => td.textContent?.trim());
    expect(cells(entries[0]!).slice(0, 5)).toEqual([
      "Charge",
      "ch_1",
      formatMoney(1234, "EUR", 2),
      formatMoney(66, "EUR", 2),
      formatMoney(1168, "EUR", 2),
    ]);
    expect(cells(entries[1]!).slice(0, 5)).toEqual([
      "Refund",
      "re_9",
      formatMoney(-500, "EUR", 2),
      formatMoney(0, "EUR", 2),
      formatMoney(-500, "EUR", 2),
    ]);
    const totals = within(detail).getByTestId("payout-totals");
    expect(totals.textContent).toContain("2 entries add up to");
    expect(totals.textContent).toContain(formatMoney(11_680, "EUR", 2));
    const difference = within(detail).getByTestId("payout-difference");
    expect(difference.dataset.state).toBe("ok");
    expect(difference.textContent).toContain("Adds up");
    expect(row("po_ok").getAttribute("aria-selected")).toBe("true");
  });

  it("highlights a difference", async () => {
    setup();
    await screen.findAllByTestId("payout-row");
    await fireEvent.click(row("po_off"));
    const detail = await screen.findByTestId("payout-detail");
    const difference = await within(detail).findByTestId("payout-difference");
    expect(difference.dataset.state).toBe("off");
    expect(difference.classList.contains("off")).toBe(true);
    expect(difference.textContent).toContain(`Off by ${formatMoney(100, "EUR", 2)}`);
  });

  it("says a payout without entries cannot be checked", async () => {
    setup({ get_payout: () => payoutDetail({ payout: none, entries: [] }) });
    await screen.findAllByTestId("payout-row");
    await fireEvent.click(row("po_none"));
    const detail = await screen.findByTestId("payout-detail");
    expect((await within(detail).findByTestId("payout-difference")).dataset.state).toBe("none");
    expect(detail.textContent).toContain("lists no entries");
    expect(within(detail).queryByTestId("payout-entry")).toBeNull();
  });

  it("opens an entry's payment, only for entries whose payment is stored", async () => {
    const { onopenpayment } = setup({
      get_payout: () =>
        payoutDetail({
          entries: [payoutEntry({ payment_id: "pay-42" }), payoutEntry({ external_id: "txn_fee", kind: "fee", payment_id: null })],
        }),
    });
    await screen.findAllByTestId("payout-row");
    await fireEvent.click(row("po_ok"));
    const entries = await within(await screen.findByTestId("payout-detail")).findAllByTestId("payout-entry");
    await fireEvent.click(within(entries[0]!).getByTestId("payout-entry-open"));
    expect(onopenpayment).toHaveBeenCalledWith("pay-42");
    expect(within(entries[1]!).queryByTestId("payout-entry-open")).toBeNull();
  });

  it("opens the payout it is asked to, and closes with Esc", async () => {
    const { calls } = setup({}, { openPayoutId: "payout-2" });
    const detail = await screen.findByTestId("payout-detail");
    await within(detail).findAllByTestId("payout-entry");
    expect(callsOf(calls, "get_payout")).toEqual([{ id: "payout-2" }]);
    expect(within(detail).getByRole("heading", { level: 2 }).textContent).toContain(formatMoney(20_000, "EUR", 2));

    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("payout-detail")).toBeNull();
    // Focus goes back to the payout in the list.
    expect(document.activeElement).toBe(within(row("po_off")).getByRole("button"));
  });
});
