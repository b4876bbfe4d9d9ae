import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { PaymentRequestView } from "../bindings/PaymentRequestView";
import { paymentRequest, requestOption } from "../../test/dashboardFixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import { rememberRequestChoice } from "./remember";
import RequestPaymentButton from "./RequestPaymentButton.svelte";
import RequestPaymentDialog from "./RequestPaymentDialog.svelte";

const stripeDown = requestOption({
  connection_id: "conn-1",
  connection: "Main",
  provider: "stripe",
  available: false,
  unavailable_reason: "Stripe is not answering; retrying after 10:42.",
});
const paypalShop = requestOption({ connection_id: "conn-2", connection: "Shop", provider: "paypal" });

function setup(handlers: Record<string, Handler> = {}, props: { currencies?: string[] } = {}) {
  const calls = mockCommands({
    payment_request_options: () => [requestOption()],
    // Rust reads the typed amount; the fake answers with a fixed amount in the asked currency.
    request_payment: (args) => paymentRequest({ amount_minor: 1250, currency: args.input.currency }),
    ...handlers,
  });
  const onclose = vi.fn();
  const onrequested = vi.fn();
  render(RequestPaymentDialog, { onclose, onrequested, ...props });
  return { calls, onclose, onrequested };
}

const field = (id: string) => screen.getByTestId(id) as HTMLInputElement & HTMLSelectElement;

async function fill(values: { amount?: string; currency?: string; description?: string; email?: string }) {
  await screen.findByTestId("request-connection");
  if (values.currency !== undefined) await fireEvent.change(field("request-currency"), { target: { value: values.currency } });
  if (values.amount !== undefined) await fireEvent.input(field("request-amount"), { target: { value: values.amount } });
  if (values.description !== undefined)
    await fireEvent.input(field("request-description"), { target: { value: values.description } });
  if (values.email !== undefined) await fireEvent.input(field("request-email"), { target: { value: values.email } });
}

async function submit() {
  await fireEvent.click(screen.getByTestId("request-submit"));
}

beforeEach(() => localStorage.clear());

describe("request payment", () => {
  it("sends the amount as typed; Rust reads it with the currency's decimals", async () => {
    const { calls, onrequested } = setup();
    await fill({ currency: "EUR", amount: "12.50", description: "Deposit for the kitchen" });
    expect(screen.getByTestId("request-submit").textContent).toContain("12.50 EUR");
    await submit();
    await screen.findByTestId("request-link");
    expect(callsOf(calls, "payment_request_options")).toHaveLength(1);
    expect(callsOf(calls, "request_payment")).toEqual([
      {
        input: {
          connection: "conn-1",
          amount: "12.50",
          amount_minor: null,
          currency: "EUR",
          description: "Deposit for the kitchen",
          customer_email: null,
          fallback_from: null,
        },
      },
    ]);
    expect(onrequested).toHaveBeenCalledOnce();
  });

  it("reads a decimal comma as a point, and a yen amount without decimals", async () => {
    const { calls } = setup();
    await fill({ currency: "EUR", amount: "12,5", description: "Tea set" });
    await submit();
    await screen.findByTestId("request-link");
    expect(callsOf(calls, "request_payment")[0]!.input).toMatchObject({ amount: "12.5", currency: "EUR" });
    await fireEvent.click(screen.getByRole("button", { name: "Done" }));
  });

  it("shows Rust's refusal of decimals the currency does not have, and keeps the form", async () => {
    const { calls } = setup({
      request_payment: () =>
        Promise.reject({ code: "invalid_input", message: "JPY has 0 decimal(s): 12.5 has more.", retryable: false }),
    });
    await fill({ currency: "JPY", amount: "12.5", description: "Tea" });
    await submit();
    expect((await screen.findByRole("alert")).textContent).toContain("JPY has 0 decimal(s)");
    expect(callsOf(calls, "request_payment")[0]!.input).toMatchObject({ amount: "12.5", currency: "JPY" });
    expect(field("request-amount").value).toBe("12.5");
    expect(screen.queryByTestId("request-link")).toBeNull();
  });

  it("says what an amount looks like when it is not one", async () => {
    const { calls } = setup();
    await fill({ amount: "twelve", description: "Tea" });
    await submit();
    expect(screen.getByTestId("request-amount-problem").textContent).toBe("Enter an amount like 12.50.");
    expect(field("request-amount").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(field("request-amount"));
    expect(callsOf(calls, "request_payment")).toHaveLength(0);
  });

  it("asks for an amount above zero and what it is for", async () => {
    const { calls } = setup();
    await fill({ amount: "0" });
    await submit();
    expect(screen.getByTestId("request-amount-problem").textContent).toBe("Enter more than zero.");
    expect(screen.getByText("Say what the payment is for.")).toBeTruthy();
    expect(callsOf(calls, "request_payment")).toHaveLength(0);
  });

  it("validates the customer's email, which is optional", async () => {
    const { calls } = setup();
    await fill({ currency: "EUR", amount: "5", description: "Quote 7", email: "ann@" });
    await submit();
    expect(screen.getByTestId("request-email-problem").textContent).toContain("valid email");
    expect(callsOf(calls, "request_payment")).toHaveLength(0);

    await fireEvent.input(field("request-email"), { target: { value: " ann@example.com " } });
    expect(screen.queryByTestId("request-email-problem")).toBeNull();
    await submit();
    await screen.findByTestId("request-link");
    expect(callsOf(calls, "request_payment")[0]!.input).toMatchObject({
      amount: "5",
      customer_email: "ann@example.com",
    });
  });

  it("defaults to the first connection that can ask, and shows why the others cannot", async () => {
    setup({ payment_request_options: () => [stripeDown, paypalShop] });
    const select = (await screen.findByTestId("request-connection")) as HTMLSelectElement;
    expect(select.value).toBe("conn-2");
    const labels = Array.from(select.options).map((o) => o.textContent?.trim());
    expect(labels).toEqual(["Stripe “Main” — unavailable", "PayPal “Shop”"]);
    expect(screen.queryByTestId("request-fallback")).toBeNull();

    // Choosing the unavailable one shows why, and offers the other.
    await fireEvent.change(select, { target: { value: "conn-1" } });
    const offer = screen.getByTestId("request-fallback");
    expect(offer.textContent).toContain("Stripe is not answering; retrying after 10:42.");
  });

  it("offers a fallback visibly when the usual connection is down, and records it only when accepted", async () => {
    rememberRequestChoice({ connection: "conn-1", currency: "EUR" });
    const { calls } = setup({ payment_request_options: () => [stripeDown, paypalShop] });
    await fill({ amount: "20", description: "Deposit" });

    // Never switched silently: the usual connection stays chosen, with the reason and an offer.
    expect(field("request-connection").value).toBe("conn-1");
    const offer = screen.getByTestId("request-fallback");
    expect(offer.textContent?.replace(/\s+/g, " ")).toContain("Stripe is not answering; retrying after 10:42.");
    expect(offer.textContent?.replace(/\s+/g, " ")).toContain("Use PayPal “Shop” instead?");
    expect((screen.getByTestId("request-submit") as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.click(within(offer).getByTestId("request-fallback-accept"));
    expect(field("request-connection").value).toBe("conn-2");
    expect(screen.queryByTestId("request-fallback")).toBeNull();
    expect(screen.getByTestId("request-fallback-note").textContent).toContain("Instead of “Main”");

    await submit();
    await screen.findByTestId("request-link");
    expect(callsOf(calls, "request_payment")[0]!.input).toMatchObject({
      connection: "conn-2",
      amount: "20",
      fallback_from: "Main",
    });
  });

  it("sends no fallback when the user picks the other connection themselves", async () => {
    rememberRequestChoice({ connection: "conn-1", currency: "EUR" });
    const { calls } = setup({ payment_request_options: () => [stripeDown, paypalShop] });
    await fill({ amount: "20", description: "Deposit" });
    await fireEvent.click(screen.getByTestId("request-fallback-accept"));
    // …then changes their mind through the list: their own choice, not a fallback.
    await fireEvent.change(field("request-connection"), { target: { value: "conn-1" } });
    await fireEvent.change(field("request-connection"), { target: { value: "conn-2" } });
    expect(screen.queryByTestId("request-fallback-note")).toBeNull();
    await submit();
    await screen.findByTestId("request-link");
    expect(callsOf(calls, "request_payment")[0]!.input).toMatchObject({ connection: "conn-2", fallback_from: null });
  });

  it("says so when no connection can ask right now", async () => {
    setup({ payment_request_options: () => [stripeDown] });
    await screen.findByTestId("request-connection");
    expect(screen.getByTestId("request-fallback").textContent).toContain("No other connection can ask for money right now");
    expect((screen.getByTestId("request-submit") as HTMLButtonElement).disabled).toBe(true);
  });

  it("shows the link with Copy and Open, and that email sending comes with messaging", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText } });
    const { calls } = setup({ open_payment_request: () => null });
    await fill({ amount: "12.50", description: "Deposit" });
    await submit();
    const link = await screen.findByTestId("request-link");
    expect(link.textContent).toBe("https://pay.example.test/link/abc");
    expect(screen.getByTestId("request-outcome").textContent).toContain("arrives with messaging");
    // Open asks Rust to open the stored link in the system browser.
    await fireEvent.click(screen.getByTestId("request-open"));
    await waitFor(() => expect(callsOf(calls, "open_payment_request")).toEqual([{ id: "req-1" }]));

    const copy = screen.getByRole("button", { name: "Copy the payment link" });
    await fireEvent.click(copy);
    expect(writeText).toHaveBeenCalledWith("https://pay.example.test/link/abc");
    await waitFor(() => expect(copy.textContent?.trim()).toBe("Copied"));
  });

  it("says when the provider is slow and the outbox keeps trying", async () => {
    setup({ request_payment: () => paymentRequest({ status: "queued", url: null, external_id: null }) });
    await fill({ amount: "12.50", description: "Deposit" });
    await submit();
    const queued = await screen.findByTestId("request-queued");
    expect(queued.textContent).toContain("Stripe is slow to answer");
    expect(queued.textContent).toContain("keeps trying");
    expect(screen.queryByTestId("request-link")).toBeNull();
  });

  it("shows a refusal in the dialog and keeps what was typed", async () => {
    const answer = deferred<PaymentRequestView>();
    const { onrequested } = setup({ request_payment: () => answer.promise });
    await fill({ amount: "12.50", description: "Deposit" });
    await submit();
    expect(screen.getByTestId("request-submit").textContent).toContain("Creating link…");
    answer.reject({ code: "provider", message: "Stripe refused: currency not supported.", retryable: false });
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("currency not supported");
    expect(screen.getByTestId("request-payment-dialog")).toBeTruthy();
    expect(field("request-amount").value).toBe("12.50");
    expect(onrequested).not.toHaveBeenCalled();
  });

  it("opens from the Request payment button and closes with Escape", async () => {
    mockCommands({ payment_request_options: () => [requestOption()] });
    render(RequestPaymentButton, { currencies: ["GBP"] });
    await fireEvent.click(screen.getByTestId("request-payment"));
    await screen.findByTestId("request-connection");
    expect(field("request-currency").value).toBe("GBP");
    expect(document.activeElement).toBe(field("request-amount"));
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("request-payment-dialog")).toBeNull();
  });
});
