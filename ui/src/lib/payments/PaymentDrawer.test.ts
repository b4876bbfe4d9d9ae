import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { callsOf, mockCommands } from "../../test/ipc";
import {
  dispute,
  payment,
  paymentDetail,
  payout,
  timelineEntry,
} from "../../test/paymentFixtures";
import type { PaymentDetail } from "../bindings/PaymentDetail";
import { formatMoney } from "../money";
import { formatDate, formatLocal } from "../time";
import PaymentDrawer from "./PaymentDrawer.svelte";

const DAY = 24 * 3600 * 1000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

function open(detail: PaymentDetail | (() => unknown), props: Partial<{ onopenpayout: (id: string) => void }> = {}) {
  const calls = mockCommands({ get_payment: typeof detail === "function" ? detail : () => detail });
  const onclose = vi.fn();
  render(PaymentDrawer, {
    id: "pay-1",
    payment: payment(1),
    onclose,
    providerName: () => "Stripe",
    ...props,
  });
  return { calls, onclose, drawer: screen.getByTestId("payment-drawer") };
}

describe("payment drawer", () => {
  it("shows the timeline, one entry per step with its label and time", async () => {
    const { calls, drawer } = open(
      paymentDetail(1, {
        timeline: [
          timelineEntry("created", "Created", "2024-05-01T10:00:00Z"),
          timelineEntry("refunded", "Refunded €5.00 (requested by customer)", "2024-05-02T09:30:00Z"),
          timelineEntry("paid_out", "Paid out in po_1", "2024-05-03T00:00:00Z"),
        ],
      }),
    );
    const timeline = await within(drawer).findByTestId("payment-timeline");
    const entries = within(timeline).getAllByTestId("timeline-entry");
    expect(entries.map((e) => e.dataset.kind)).toEqual(["created", "refunded", "paid_out"]);
    expect(entries[1]!.textContent).toContain("Refunded €5.00 (requested by customer)");
    const time = entries[1]!.querySelector("time")!;
    expect(time.getAttribute("datetime")).toBe("2024-05-02T09:30:00Z");
    expect(time.textContent?.trim()).toBe(formatLocal("2024-05-02T09:30:00Z"));
    expect(callsOf(calls, "get_payment")).toEqual([{ id: "pay-1" }]);
  });

  it("lists disputes, the evidence deadline highlighted when it is close", async () => {
    const soon = inDays(3);
    const later = inDays(30);
    const { drawer } = open(
      paymentDetail(1, {
        disputes: [
          dispute({ external_id: "dp_soon", status: "needs_response", evidence_due_by: soon, amount_minor: 1234 }),
          dispute({ external_id: "dp_later", status: "needs_response", evidence_due_by: later, reason: "duplicate" }),
          dispute({ external_id: "dp_won", status: "won", evidence_due_by: inDays(-2) }),
        ],
      }),
    );
    const section = await within(drawer).findByTestId("payment-disputes");
    const [first, second, won] = within(section).getAllByTestId("dispute");
    expect(first!.textContent).toContain("Needs response");
    expect(first!.textContent).toContain(formatMoney(1234, "EUR", 2));
    expect(first!.textContent).toContain("Fraudulent");
    const due = within(first!).getByTestId("dispute-due");
    expect(due.dataset.urgent).toBe("true");
    expect(due.textContent).toContain(formatDate(soon));
    expect(within(second!).getByTestId("dispute-due").dataset.urgent).toBe("false");
    // A dispute that is over has nothing due any more.
    expect(won!.textContent).toContain("Won");
    expect(within(won!).getByTestId("dispute-due").dataset.urgent).toBe("false");
    // The header says the payment is disputed.
    expect(within(drawer).getByText("3 disputes")).toBeTruthy();
  });

  it("says there are no disputes", async () => {
    const { drawer } = open(paymentDetail(1));
    expect((await within(drawer).findByTestId("payment-disputes")).textContent).toContain("No disputes.");
  });

  it("shows the payout that carried the payment and asks the parent to open it", async () => {
    const onopenpayout = vi.fn();
    const { drawer } = open(
      paymentDetail(1, {
        payout: payout({ id: "payout-9", amount_minor: 98_765, status: "in_transit", arrival_date: "2024-05-07T00:00:00Z" }),
      }),
      { onopenpayout },
    );
    const section = await within(drawer).findByTestId("payment-payout");
    expect(section.textContent).toContain(formatMoney(98_765, "EUR", 2));
    expect(section.textContent).toContain("In transit");
    expect(section.textContent).toContain(formatDate("2024-05-07T00:00:00Z"));
    expect(section.textContent).toContain("po_1");
    await fireEvent.click(within(section).getByTestId("open-payout"));
    expect(onopenpayout).toHaveBeenCalledWith("payout-9");
  });

  it("says when no payout is known, and offers no payout button without a handler", async () => {
    const { drawer } = open(paymentDetail(1, { payout: null }));
    const section = await within(drawer).findByTestId("payment-payout");
    expect(section.textContent).toContain("Not paid out yet");
    expect(within(drawer).queryByTestId("open-payout")).toBeNull();
  });

  it("opens the payment in the provider's dashboard through Rust, which owns the address", async () => {
    const calls = mockCommands({
      get_payment: () => paymentDetail(1, { dashboard_url: "https://dashboard.stripe.com/payments/ch_1" }),
      open_payment_dashboard: () => null,
    });
    render(PaymentDrawer, { id: "pay-1", payment: payment(1), onclose: vi.fn(), providerName: () => "Stripe" });
    const drawer = screen.getByTestId("payment-drawer");
    const button = await within(drawer).findByTestId("payment-dashboard-link");
    expect(button.textContent).toContain("Open in Stripe dashboard");
    expect(button.getAttribute("href")).toBeNull();
    await fireEvent.click(button);
    await waitFor(() => expect(callsOf(calls, "open_payment_dashboard")).toEqual([{ id: "pay-1" }]));
  });

  it("says so when the browser cannot be opened", async () => {
    mockCommands({
      get_payment: () => paymentDetail(1, { dashboard_url: "https://dashboard.stripe.com/payments/ch_1" }),
      open_payment_dashboard: () =>
        Promise.reject({ code: "internal", message: "could not open the browser", retryable: false }),
    });
    render(PaymentDrawer, { id: "pay-1", payment: payment(1), onclose: vi.fn(), providerName: () => "Stripe" });
    const drawer = screen.getByTestId("payment-drawer");
    await fireEvent.click(await within(drawer).findByTestId("payment-dashboard-link"));
    expect((await within(drawer).findByRole("alert")).textContent).toContain("could not open the browser");
  });

  it("offers no dashboard link when the provider has none", async () => {
    const { drawer } = open(paymentDetail(1, { dashboard_url: null }));
    await within(drawer).findByTestId("payment-timeline");
    expect(within(drawer).queryByTestId("payment-dashboard-link")).toBeNull();
  });

  it("shows the method, the customer's email, fees and net", async () => {
    const { drawer } = open(
      paymentDetail(1, {
        payment: payment(1, { method: "bank_transfer", customer: "Ada Lovelace", customer_email: "ada@example.com" }),
      }),
    );
    await within(drawer).findByTestId("payment-timeline");
    expect(drawer.textContent).toContain("Bank transfer");
    expect(drawer.textContent).toContain("ada@example.com");
    expect(drawer.textContent).toContain(formatMoney(66, "EUR", 2));
    expect(drawer.textContent).toContain(formatMoney(1168, "EUR", 2));
  });

  it("shows what a converted payment settled as, at the provider's rate", async () => {
    const converted = payment(1, {
      amount_minor: 1000,
      currency: "JPY",
      currency_exponent: 0,
      settled_as: { amount_minor: 671, currency: "USD", currency_exponent: 2, exchange_rate: "0.006712" },
    });
    const { drawer } = open(paymentDetail(1, { payment: converted }));
    const settled = await within(drawer).findByTestId("settled-as");
    expect(settled.textContent).toContain(formatMoney(671, "USD", 2));
    expect(settled.textContent).toContain("(rate: 1 JPY = 0.006712 USD)");
    expect(settled.previousElementSibling?.textContent).toBe("Settled as");
  });

  it("shows a settlement without a rate when the provider states none, and none when not converted", async () => {
    const converted = payment(1, {
      currency: "USD",
      settled_as: { amount_minor: 915, currency: "EUR", currency_exponent: 2, exchange_rate: null },
    });
    const { drawer } = open(paymentDetail(1, { payment: converted }));
    const settled = await within(drawer).findByTestId("settled-as");
    expect(settled.textContent?.trim()).toBe(formatMoney(915, "EUR", 2));
    cleanup();
    const plain = open(paymentDetail(2, { payment: payment(2) }));
    await within(plain.drawer).findByTestId("payment-timeline");
    expect(within(plain.drawer).queryByTestId("settled-as")).toBeNull();
    expect(plain.drawer.textContent).not.toContain("Settled as");
  });

  it("loads a payment it only has the id of", async () => {
    mockCommands({ get_payment: () => paymentDetail(5, { payment: payment(5, { amount_minor: 777 }) }) });
    render(PaymentDrawer, { id: "pay-5", payment: null, onclose: () => {} });
    const drawer = screen.getByTestId("payment-drawer");
    expect((within(drawer).getByTestId("refund-button") as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(within(drawer).getByRole("heading", { level: 2 }).textContent).toContain(formatMoney(777, "EUR", 2)));
    expect((within(drawer).getByTestId("refund-button") as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows a failed load with Retry", async () => {
    let fail = true;
    const { drawer } = open(() =>
      fail
        ? Promise.reject({ code: "storage", message: "The database is busy. Try again.", retryable: true })
        : paymentDetail(1),
    );
    const alert = await within(drawer).findByRole("alert");
    expect(alert.textContent).toContain("The database is busy.");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await within(drawer).findByTestId("payment-timeline")).toBeTruthy();
  });
});
