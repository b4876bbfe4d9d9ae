import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import type { SubscriptionView } from "../bindings/SubscriptionView";
import { formatMoney } from "../money";
import { AppState } from "../state/app.svelte";
import { formatDate } from "../time";
import { connection, xeroConnection } from "../../test/fixtures";
import { subscription } from "../../test/dashboardFixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import SubscriptionsView from "./SubscriptionsView.svelte";

const shops = [
  connection(),
  connection({ id: "conn-2", name: "PayPal shop", provider: "paypal", provider_name: "PayPal" }),
  xeroConnection(),
];

function setup(handlers: Record<string, Handler> = {}, connections: ConnectionView[] = shops) {
  const calls = mockCommands({
    list_subscriptions: () => [
      subscription(),
      subscription({
        id: "sub-2",
        external_id: "I-PAYPAL2",
        connection_id: "conn-2",
        connection: "PayPal shop",
        provider: "paypal",
        customer: "Bob Buyer",
        description: "Box of the quarter",
        amount_minor: 3_000,
        interval: "month",
        interval_count: 3,
        status: "past_due",
        next_charge_at: "2024-07-15T00:00:00Z",
      }),
    ],
    ...handlers,
  });
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const ongoconnections = vi.fn();
  render(SubscriptionsView, { app, ongoconnections });
  return { app, calls, ongoconnections };
}

const text = (el: HTMLElement) => el.textContent?.replace(/\s+/g, " ").trim() ?? "";
const row = (externalId: string) =>
  document.querySelector<HTMLElement>(`[data-testid="subscription-row"][data-external-id="${externalId}"]`)!;

describe("subscriptions", () => {
  it("lists customer, what, price per interval, status, next charge and connection", async () => {
    const { calls } = setup();
    const rows = await screen.findAllByTestId("subscription-row");
    expect(callsOf(calls, "list_subscriptions")).toEqual([{ connection: null }]);
    expect(rows.map((r) => r.dataset.externalId)).toEqual(["sub_1", "I-PAYPAL2"]);
    const cells = (r: HTMLElement) => Array.from(r.querySelectorAll("th, td")).map((c) => text(c as HTMLElement));
    expect(cells(rows[0]!).slice(0, 6)).toEqual([
      "Ann Example",
      "Coffee club",
      `${formatMoney(1_250, "EUR", 2)} / month`,
      "Active",
      formatDate("2024-06-01T00:00:00Z"),
      "Demo shop",
    ]);
    expect(cells(rows[1]!).slice(2, 4)).toEqual([`${formatMoney(3_000, "EUR", 2)} every 3 months`, "Past due"]);
    expect(screen.getByTestId("subscriptions-count").textContent).toContain("2 subscriptions");
  });

  it("shows a plan's name and cadence when it is priced by what is ordered", async () => {
    setup({
      list_subscriptions: () => [
        subscription({
          description: "Build your own box (Quarterly)",
          amount_minor: null,
          currency: null,
          currency_exponent: null,
          interval: "month",
          interval_count: 3,
        }),
      ],
    });
    const [only] = await screen.findAllByTestId("subscription-row");
    const cells = Array.from(only!.querySelectorAll("th, td")).map((c) => text(c as HTMLElement));
    expect(cells.slice(1, 3)).toEqual(["Build your own box (Quarterly)", "every 3 months"]);
  });

  it("filters by payment connection", async () => {
    const { calls } = setup();
    await screen.findAllByTestId("subscription-row");
    const filter = screen.getByTestId("connection-filter") as HTMLSelectElement;
    // Only connections that take payments are offered.
    expect(Array.from(filter.options).map((o) => o.textContent)).toEqual(["All connections", "Demo shop", "PayPal shop"]);
    await fireEvent.change(filter, { target: { value: "conn-2" } });
    await waitFor(() => expect(callsOf(calls, "list_subscriptions")).toEqual([{ connection: null }, { connection: "conn-2" }]));
  });

  it("explains why a subscription cannot be cancelled, and shows a cancel in flight", async () => {
    setup({
      list_subscriptions: () => [
        subscription({ cancel_blocked: "Square subscriptions are cancelled in the Square Dashboard." }),
        subscription({ id: "sub-2", external_id: "sub_2", cancel_pending: true }),
        subscription({ id: "sub-3", external_id: "sub_3" }),
      ],
    });
    await screen.findAllByTestId("subscription-row");
    const blocked = within(row("sub_1")).getByTestId("subscription-cancel") as HTMLButtonElement;
    expect(blocked.disabled).toBe(true);
    expect(blocked.title).toBe("Square subscriptions are cancelled in the Square Dashboard.");
    const described = document.getElementById(blocked.getAttribute("aria-describedby")!);
    expect(described?.textContent).toBe("Square subscriptions are cancelled in the Square Dashboard.");

    const pending = within(row("sub_2")).getByTestId("subscription-cancel") as HTMLButtonElement;
    expect(pending.disabled).toBe(true);
    expect(pending.textContent?.trim()).toBe("Cancel pending…");

    const open = within(row("sub_3")).getByTestId("subscription-cancel") as HTMLButtonElement;
    expect(open.disabled).toBe(false);
    expect(open.textContent?.trim()).toBe("Cancel at period end…");
  });

  it("confirms with the customer, the price and the last day, then cancels and updates the row", async () => {
    const answer = deferred<SubscriptionView>();
    const { calls } = setup({ cancel_subscription: () => answer.promise });
    await screen.findAllByTestId("subscription-row");
    await fireEvent.click(within(row("sub_1")).getByTestId("subscription-cancel"));

    const dialog = screen.getByTestId("subscription-cancel-dialog");
    const said = text(dialog);
    expect(said).toContain("Ann Example");
    expect(said).toContain(`${formatMoney(1_250, "EUR", 2)} / month`);
    expect(said).toContain(`They will not be charged again after ${formatDate("2024-06-01T00:00:00Z")}`);
    expect(said).not.toContain("at once");
    // Nothing is sent before the user confirms.
    expect(callsOf(calls, "cancel_subscription")).toHaveLength(0);
    // The safe choice has the focus.
    expect(document.activeElement?.textContent).toBe("Keep subscription");

    await fireEvent.click(within(dialog).getByTestId("subscription-cancel-confirm"));
    expect(callsOf(calls, "cancel_subscription")).toEqual([{ id: "sub-1" }]);
    expect(within(dialog).getByTestId("subscription-cancel-confirm").textContent).toContain("Cancelling…");

    answer.resolve(subscription({ cancel_pending: true }));
    await waitFor(() => expect(screen.queryByTestId("subscription-cancel-dialog")).toBeNull());
    const button = within(row("sub_1")).getByTestId("subscription-cancel") as HTMLButtonElement;
    expect(button.textContent?.trim()).toBe("Cancel pending…");
    expect(button.disabled).toBe(true);
    expect(screen.getByTestId("subscriptions-notice").textContent).toContain("waiting for it to confirm");
  });

  it("shows the provider's confirmation in the row", async () => {
    setup({ cancel_subscription: () => subscription({ cancel_at_period_end: true }) });
    await screen.findAllByTestId("subscription-row");
    await fireEvent.click(within(row("sub_1")).getByTestId("subscription-cancel"));
    await fireEvent.click(screen.getByTestId("subscription-cancel-confirm"));
    await waitFor(() => expect(screen.queryByTestId("subscription-cancel-dialog")).toBeNull());
    const updated = row("sub_1");
    expect(text(updated)).toContain("Ends at period end");
    expect(text(updated)).toContain(`Ends ${formatDate("2024-06-01T00:00:00Z")}`);
    expect((within(updated).getByTestId("subscription-cancel") as HTMLButtonElement).disabled).toBe(true);
  });

  it("says PayPal cancels at once", async () => {
    setup();
    await screen.findAllByTestId("subscription-row");
    const cancel = within(row("I-PAYPAL2")).getByTestId("subscription-cancel");
    expect(cancel.textContent?.trim()).toBe("Cancel…");
    await fireEvent.click(cancel);
    const dialog = screen.getByTestId("subscription-cancel-dialog");
    expect(screen.getByTestId("subscription-cancel-at-once").textContent).toContain("PayPal cancels subscriptions at once");
    expect(text(dialog)).toContain("Bob Buyer");
    expect(within(dialog).getByTestId("subscription-cancel-confirm").textContent?.trim()).toBe("Cancel now");
  });

  it("shows a failed cancel in the dialog and leaves the row as it was", async () => {
    setup({
      cancel_subscription: () =>
        Promise.reject({ code: "provider", message: "Stripe says the subscription is already canceled.", retryable: false }),
    });
    await screen.findAllByTestId("subscription-row");
    await fireEvent.click(within(row("sub_1")).getByTestId("subscription-cancel"));
    await fireEvent.click(screen.getByTestId("subscription-cancel-confirm"));
    const dialog = screen.getByTestId("subscription-cancel-dialog");
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("already canceled");
    expect((within(row("sub_1")).getByTestId("subscription-cancel") as HTMLButtonElement).disabled).toBe(false);

    await fireEvent.click(within(dialog).getByRole("button", { name: "Keep subscription" }));
    expect(screen.queryByTestId("subscription-cancel-dialog")).toBeNull();
  });

  it("says when there are none, for all connections or one", async () => {
    setup({ list_subscriptions: () => [] });
    expect((await screen.findByTestId("subscriptions-empty")).textContent).toContain("No subscriptions yet");
    await fireEvent.change(screen.getByTestId("connection-filter"), { target: { value: "conn-1" } });
    await waitFor(() =>
      expect(screen.getByTestId("subscriptions-empty").textContent).toContain("No subscriptions for this connection"),
    );
  });

  it("sends a workspace without a payment connection to Connections", async () => {
    const { calls, ongoconnections } = setup({}, [xeroConnection()]);
    const empty = screen.getByTestId("subscriptions-no-connection");
    await fireEvent.click(within(empty).getByRole("button", { name: "Go to Connections" }));
    expect(ongoconnections).toHaveBeenCalledOnce();
    expect(callsOf(calls, "list_subscriptions")).toHaveLength(0);
  });

  it("shows a loading error with Retry", async () => {
    let fail = true;
    setup({
      list_subscriptions: () =>
        fail ? Promise.reject({ code: "database", message: "The database is busy.", retryable: true }) : [subscription()],
    });
    const alert = await screen.findByRole("alert");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("subscription-row")).toHaveLength(1);
  });
});
