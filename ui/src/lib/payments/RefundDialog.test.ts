import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { outboxItem, payment, refundQuote } from "../../test/fixtures";
import { callsOf, mockCommands } from "../../test/ipc";
import RefundDialog from "./RefundDialog.svelte";

function setup(handlers: Parameters<typeof mockCommands>[0]) {
  const calls = mockCommands({ refund_quote: () => refundQuote(), ...handlers });
  const onrefunded = vi.fn();
  const onclose = vi.fn();
  render(RefundDialog, { payment: payment(1), onclose, onrefunded, pollMs: 1 });
  return { calls, onrefunded, onclose };
}

describe("refund dialog", () => {
  it("offers what is refundable in the payment's currency and refunds the confirmed amount", async () => {
    const { calls, onrefunded } = setup({ refund_payment: () => outboxItem({ amount_minor: 1250 }) });
    const amount = (await screen.findByTestId("refund-amount")) as HTMLInputElement;
    expect(amount.value).toBe("40.00");
    expect(screen.getByTestId("refund-refundable").textContent).toContain("€40.00");
    await fireEvent.input(amount, { target: { value: "12.50" } });
    const confirm = screen.getByTestId("refund-confirm");
    expect(confirm.textContent).toContain("Refund €12.50");
    await fireEvent.change(screen.getByTestId("refund-reason"), { target: { value: "duplicate" } });
    await fireEvent.click(confirm);
    const outcome = await screen.findByTestId("refund-outcome");
    expect(outcome.dataset.status).toBe("succeeded");
    expect(outcome.textContent).toContain("re_1");
    expect(callsOf(calls, "refund_payment")).toEqual([
      { input: { payment: "pay-1", amount_minor: 1250, reason: "duplicate" } },
    ]);
    await waitFor(() => expect(onrefunded).toHaveBeenCalledTimes(1));
  });

  it("keeps showing the outcome when the drawer hands it the reloaded payment", async () => {
    const calls = mockCommands({ refund_quote: () => refundQuote(), refund_payment: () => outboxItem() });
    const view = render(RefundDialog, { payment: payment(1), onclose: () => {}, onrefunded: () => {}, pollMs: 1 });
    await fireEvent.click(await screen.findByTestId("refund-confirm"));
    await screen.findByTestId("refund-outcome");
    // What the drawer does after `onrefunded`: the same payment, as a new object.
    await view.rerender({ payment: { ...payment(1), refunded_minor: 4000 } });
    expect(screen.getByTestId("refund-outcome").dataset.status).toBe("succeeded");
    expect(screen.queryByText("Loading…")).toBeNull();
    expect(callsOf(calls, "refund_quote")).toHaveLength(1);
  });

  it("refuses more than is refundable, or a malformed amount, before sending", async () => {
    const { calls } = setup({});
    const amount = await screen.findByTestId("refund-amount");
    await fireEvent.input(amount, { target: { value: "40.01" } });
    expect(screen.getByTestId("refund-invalid").textContent).toContain("At most €40.00");
    expect((screen.getByTestId("refund-confirm") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(amount, { target: { value: "1.234" } });
    expect(screen.getByTestId("refund-invalid").textContent).toContain("EUR");
    expect(callsOf(calls, "refund_payment")).toHaveLength(0);
  });

  it("follows a refund whose answer was lost until the outbox confirms it", async () => {
    let looks = 0;
    const queued = outboxItem({
      status: "queued",
      is_final: false,
      result_external_id: null,
      last_error_code: "network",
      last_error_message: "Stripe failed to answer.",
    });
    const { calls, onrefunded } = setup({
      refund_payment: () => queued,
      process_outbox: () => ({ processed: 1, succeeded: 1, retrying: 0, dead: 0, found_by_lookup: 1 }),
      get_outbox_item: () => (++looks < 2 ? queued : outboxItem()),
    });
    await fireEvent.click(await screen.findByTestId("refund-confirm"));
    expect((await screen.findByTestId("refund-outcome")).textContent).toContain("Not confirmed yet");
    await waitFor(() => expect(screen.getByTestId("refund-outcome").dataset.status).toBe("succeeded"));
    expect(callsOf(calls, "process_outbox").length).toBeGreaterThanOrEqual(2);
    expect(onrefunded).toHaveBeenCalledTimes(1);
  });

  it("says why a payment cannot be refunded", async () => {
    setup({ refund_quote: () => refundQuote({ refundable_minor: 0, blocked_reason: "This payment is already fully refunded." }) });
    expect((await screen.findByTestId("refund-blocked")).textContent).toContain("fully refunded");
    expect(screen.queryByTestId("refund-confirm")).toBeNull();
  });

  it("shows a dead letter's error", async () => {
    setup({
      refund_payment: () =>
        outboxItem({ status: "dead", last_error_message: "Stripe refused the request.", result_external_id: null }),
    });
    await fireEvent.click(await screen.findByTestId("refund-confirm"));
    const outcome = await screen.findByTestId("refund-outcome");
    expect(outcome.textContent).toContain("The refund failed");
    expect(outcome.textContent).toContain("Stripe refused the request.");
  });
});
