import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { paymentRequest } from "../../test/dashboardFixtures";
import { callsOf, mockCommands } from "../../test/ipc";
import PaymentRequestList from "./PaymentRequestList.svelte";

const text = (el: HTMLElement) => el.textContent?.replace(/\s+/g, " ").trim() ?? "";

describe("payment request list", () => {
  it("shows what came of PayPal requests: paid with its payment, expired with why, approved while collecting", async () => {
    const calls = mockCommands({
      list_payment_requests: () => [
        paymentRequest({ id: "r-paid", provider: "paypal", status: "paid", payment_external_id: "3C679366HH908993F" }),
        paymentRequest({
          id: "r-expired",
          provider: "paypal",
          status: "expired",
          error: "PayPal voided order 5O190127TN364715T: it was not paid in time.",
        }),
        paymentRequest({ id: "r-approved", provider: "paypal", status: "approved" }),
        paymentRequest({ id: "r-open", provider: "paypal", status: "created" }),
      ],
    });
    render(PaymentRequestList, { version: 0 });
    const rows = await screen.findAllByTestId("payment-request-row");
    expect(callsOf(calls, "list_payment_requests")).toEqual([{ limit: 20 }]);
    expect(rows.map((r) => r.dataset.status)).toEqual(["paid", "expired", "approved", "created"]);

    expect(text(rows[0]!)).toContain("Paid");
    expect(text(rows[0]!)).toContain("payment 3C679366HH908993F");
    expect(rows[0]!.querySelector("button")).toBeNull();

    expect(text(rows[1]!)).toContain("Expired");
    expect(text(rows[1]!)).toContain("PayPal voided order 5O190127TN364715T");
    expect(rows[1]!.querySelector("button")).toBeNull();

    expect(text(rows[2]!)).toContain("Approved, collecting");
    expect(text(rows[2]!)).toContain("Taking the payment");

    // Still waiting for the customer: the link can be copied or opened.
    expect(text(rows[3]!)).toContain("Link ready");
    expect(rows[3]!.querySelectorAll("button").length).toBeGreaterThan(0);
  });

  it("says why a capture is stuck", async () => {
    mockCommands({
      list_payment_requests: () => [
        paymentRequest({ status: "approved", error: "PayPal had a problem (HTTP 500); Switchboard will try again later." }),
      ],
    });
    render(PaymentRequestList, { version: 0 });
    const [row] = await screen.findAllByTestId("payment-request-row");
    expect(text(row!)).toContain("PayPal had a problem");
  });

  it("sends a capture in dead letters to the outbox, and says a discarded one takes nothing", async () => {
    mockCommands({
      list_payment_requests: () => [
        paymentRequest({
          id: "r-dead",
          provider: "paypal",
          status: "capture_failed",
          error: "PayPal had a problem (HTTP 503).",
        }),
        paymentRequest({ id: "r-discarded", provider: "paypal", status: "capture_discarded" }),
      ],
    });
    render(PaymentRequestList, { version: 0 });
    const [dead, discarded] = await screen.findAllByTestId("payment-request-row");
    expect(text(dead!)).toContain("Collecting failed");
    expect(text(dead!)).toContain("PayPal had a problem (HTTP 503). Retry or discard it in Sync activity → Outbox.");
    expect(dead!.querySelector("button")).toBeNull();
    expect(text(discarded!)).toContain("Not collected");
    expect(text(discarded!)).toContain("will not take this payment");
  });
});
