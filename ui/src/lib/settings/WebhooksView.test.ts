import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { WebhookConnectionView } from "../bindings/WebhookConnectionView";
import type { WebhookEventView } from "../bindings/WebhookEventView";
import type { WebhookSettingsView } from "../bindings/WebhookSettingsView";
import { AppState } from "../state/app.svelte";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import WebhooksView from "./WebhooksView.svelte";

function hook(overrides: Partial<WebhookConnectionView> = {}): WebhookConnectionView {
  const connectionId = overrides.connection_id ?? "conn-stripe";
  return {
    connection_id: connectionId,
    connection: "Main",
    provider: "stripe",
    provider_name: "Stripe",
    endpoint_url: `http://127.0.0.1:8723/webhooks/${connectionId}`,
    has_secret: false,
    has_previous_secret: false,
    notification_url: null,
    webhook_id: null,
    ...overrides,
  };
}

const square = (overrides: Partial<WebhookConnectionView> = {}) =>
  hook({ connection_id: "conn-square", connection: "Shop", provider: "square", provider_name: "Square", ...overrides });

const paypalWith = (overrides: Partial<WebhookConnectionView> = {}) =>
  hook({ connection_id: "conn-paypal", connection: "PayPal", provider: "paypal", provider_name: "PayPal", ...overrides });
const paypal = paypalWith();

function settings(overrides: Partial<WebhookSettingsView> = {}): WebhookSettingsView {
  return {
    enabled: false,
    port: 8723,
    running: false,
    listening_on: null,
    error: null,
    connections: [hook(), square(), paypal],
    ...overrides,
  };
}

const listening = (port = 8723) => settings({ enabled: true, port, running: true, listening_on: `127.0.0.1:${port}` });

function event(overrides: Partial<WebhookEventView> = {}): WebhookEventView {
  return {
    id: "ev-1",
    received_at: new Date(Date.now() - 60_000).toISOString(),
    connection_id: "conn-stripe",
    connection: "Main",
    provider: "stripe",
    event_id: "evt_1",
    event_type: "charge.succeeded",
    outcome: "accepted",
    reason: null,
    ...overrides,
  };
}

function setup(handlers: Record<string, Handler> = {}, kind: "demo" | "real" = "real") {
  const calls = mockCommands({
    get_webhook_settings: () => settings(),
    list_webhook_events: () => [],
    ...handlers,
  });
  const app = new AppState();
  app.workspace = { kind, path: "/data/switchboard" };
  render(WebhooksView, { app });
  return { app, calls };
}

const status = () => screen.getByTestId("webhooks-status");
const row = (connectionId: string) =>
  screen.getAllByTestId("webhook-connection").find((el) => el.dataset.connectionId === connectionId)!;

describe("settings → webhooks", () => {
  it("explains what webhooks do here and says when the receiver is off", async () => {
    setup();
    const view = await screen.findByTestId("webhooks-view");
    await screen.findByTestId("webhooks-status");
    expect(view.textContent).toContain("optional accelerator");
    expect(view.textContent).toContain("polling keeps working");
    expect(view.textContent).toContain("tunnel or relay");
    expect((screen.getByTestId("webhooks-enabled") as HTMLInputElement).checked).toBe(false);
    expect((screen.getByTestId("webhooks-port") as HTMLInputElement).value).toBe("8723");
    expect(status().textContent).toContain("Off");
    expect(status().dataset.tone).toBe("neutral");
  });

  it("turns the receiver on with the saved port and shows where it listens, then off again", async () => {
    let answer = listening();
    const { calls } = setup({ set_webhook_receiver: () => answer });
    const toggle = (await screen.findByTestId("webhooks-enabled")) as HTMLInputElement;
    await fireEvent.click(toggle);
    await waitFor(() => expect(status().textContent).toContain("Listening on 127.0.0.1:8723."));
    expect(status().dataset.tone).toBe("ok");
    expect(toggle.checked).toBe(true);
    answer = settings();
    await fireEvent.click(toggle);
    await waitFor(() => expect(status().dataset.tone).toBe("neutral"));
    expect(callsOf(calls, "set_webhook_receiver")).toEqual([
      { enabled: true, port: 8723 },
      { enabled: false, port: 8723 },
    ]);
    expect(toggle.checked).toBe(false);
  });

  it("shows why the receiver is not listening, such as a port in use", async () => {
    const error =
      "The webhook receiver cannot listen on 127.0.0.1:8723 (Address already in use (os error 98)). Another program may use that port: choose another.";
    setup({ get_webhook_settings: () => settings({ enabled: true, error }) });
    await waitFor(() => expect(status().textContent).toContain("Address already in use"));
    expect(status().dataset.tone).toBe("bad");
    expect(status().textContent).toContain("Not listening");
    expect((screen.getByTestId("webhooks-enabled") as HTMLInputElement).checked).toBe(true);
  });

  it("keeps the switch as it was when the change is refused", async () => {
    setup({
      set_webhook_receiver: () =>
        Promise.reject({ code: "invalid_input", message: "The demo receives no webhooks.", retryable: false }),
    });
    const toggle = (await screen.findByTestId("webhooks-enabled")) as HTMLInputElement;
    await fireEvent.click(toggle);
    const alert = await screen.findByTestId("webhooks-receiver-error");
    expect(alert.textContent).toContain("The demo receives no webhooks.");
    expect(toggle.checked).toBe(false);
  });

  it("accepts only ports from 1024 to 65535", async () => {
    const { calls } = setup({ set_webhook_receiver: (args) => listening(args.port) });
    const port = (await screen.findByTestId("webhooks-port")) as HTMLInputElement;
    const save = screen.getByTestId("webhooks-port-save");
    for (const bad of ["80", "1023", "65536", "70000", "12ab", "-9000", "9000.5"]) {
      await fireEvent.input(port, { target: { value: bad } });
      await fireEvent.click(save);
      const error = await screen.findByTestId("webhooks-receiver-error");
      expect(error.textContent).toContain("from 1024 to 65535");
    }
    expect(callsOf(calls, "set_webhook_receiver")).toEqual([]);
    for (const good of ["1024", "65535"]) {
      await fireEvent.input(port, { target: { value: good } });
      await fireEvent.click(save);
      await waitFor(() => expect(status().textContent).toContain(`127.0.0.1:${good}`));
    }
    // The port is saved with the switch as it is (off here).
    expect(callsOf(calls, "set_webhook_receiver")).toEqual([
      { enabled: false, port: 1024 },
      { enabled: true, port: 65535 },
    ]);
    expect(screen.queryByTestId("webhooks-receiver-error")).toBeNull();
  });

  it("lists each connection's endpoint with Copy and whether a secret is set", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: { writeText } });
    setup({
      get_webhook_settings: () =>
        settings({
          connections: [
            hook({ has_secret: true, has_previous_secret: true }),
            square({ has_secret: true, notification_url: null }),
            paypal,
          ],
        }),
    });
    await screen.findAllByTestId("webhook-connection");
    const stripe = row("conn-stripe");
    const endpoint = within(stripe).getByTestId("webhook-endpoint");
    expect(endpoint.textContent).toBe("http://127.0.0.1:8723/webhooks/conn-stripe");
    expect(stripe.textContent).toContain("/webhooks/conn-stripe");
    const secretSet = within(stripe).getByTestId("webhook-secret-set");
    expect(secretSet.dataset.set).toBe("true");
    expect(secretSet.textContent).toContain("previous one is still accepted");
    expect(within(stripe).getByTestId("webhook-secret-open").textContent?.trim()).toBe("Rotate secret…");
    await fireEvent.click(within(stripe).getByRole("button", { name: "Copy the endpoint of Main" }));
    expect(writeText).toHaveBeenCalledWith("http://127.0.0.1:8723/webhooks/conn-stripe");

    // A Square key without the URL it signs is not enough.
    const shop = row("conn-square");
    expect(within(shop).getByTestId("webhook-secret-set").textContent).toContain("no notification URL");
  });

  it("sends a Stripe secret once, clears the field at once, and shows it as set", async () => {
    const saved = deferred<WebhookSettingsView>();
    const { calls } = setup({ set_webhook_secret: () => saved.promise });
    await screen.findAllByTestId("webhook-connection");
    const stripe = row("conn-stripe");
    expect(within(stripe).getByTestId("webhook-secret-set").dataset.set).toBe("false");
    const open = within(stripe).getByTestId("webhook-secret-open");
    expect(open.textContent?.trim()).toBe("Set secret…");
    await fireEvent.click(open);
    const input = within(stripe).getByTestId("webhook-secret-input") as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(within(stripe).queryByTestId("webhook-notification-url")).toBeNull();
    await fireEvent.input(input, { target: { value: "  whsec_test_abc123  " } });
    await fireEvent.click(within(stripe).getByTestId("webhook-secret-save"));
    // Cleared before the answer arrives.
    expect(input.value).toBe("");
    expect(callsOf(calls, "set_webhook_secret")).toEqual([
      { connection: "conn-stripe", secret: "whsec_test_abc123", notificationUrl: null },
    ]);
    saved.resolve(settings({ connections: [hook({ has_secret: true }), square(), paypal] }));
    await waitFor(() => expect(within(row("conn-stripe")).getByTestId("webhook-secret-set").dataset.set).toBe("true"));
    expect(screen.queryByTestId("webhook-secret-input")).toBeNull();
    expect(screen.getByTestId("webhooks-notice").textContent).toContain("Signing secret saved for Main.");
  });

  it("asks Square for the notification URL it signs and sends it with the key", async () => {
    const { calls } = setup({
      set_webhook_secret: () =>
        settings({
          connections: [hook(), square({ has_secret: true, notification_url: "https://tunnel.example.net/webhooks/conn-square" }), paypal],
        }),
    });
    await screen.findAllByTestId("webhook-connection");
    const shop = row("conn-square");
    await fireEvent.click(within(shop).getByTestId("webhook-secret-open"));
    const key = within(shop).getByTestId("webhook-secret-input") as HTMLInputElement;
    const url = within(shop).getByTestId("webhook-notification-url") as HTMLInputElement;

    // Without the URL nothing is sent, and the key is gone from the field anyway.
    await fireEvent.input(key, { target: { value: "sq-signature-key" } });
    await fireEvent.click(within(shop).getByTestId("webhook-secret-save"));
    expect((await within(shop).findByTestId("webhook-secret-error")).textContent).toContain("notification URL");
    expect(key.value).toBe("");
    expect(callsOf(calls, "set_webhook_secret")).toEqual([]);

    await fireEvent.input(key, { target: { value: "sq-signature-key" } });
    await fireEvent.input(url, { target: { value: " https://tunnel.example.net/webhooks/conn-square " } });
    await fireEvent.click(within(shop).getByTestId("webhook-secret-save"));
    await waitFor(() =>
      expect(callsOf(calls, "set_webhook_secret")).toEqual([
        {
          connection: "conn-square",
          secret: "sq-signature-key",
          notificationUrl: "https://tunnel.example.net/webhooks/conn-square",
        },
      ]),
    );
    await waitFor(() => expect(within(row("conn-square")).getByTestId("webhook-secret-set").dataset.set).toBe("true"));
    expect(row("conn-square").textContent).toContain("https://tunnel.example.net/webhooks/conn-square");
  });

  it("shows a refused secret's error with the field cleared, and sends nothing empty", async () => {
    const { calls } = setup({
      set_webhook_secret: () =>
        Promise.reject({ code: "invalid_input", message: "The webhook secret is empty.", retryable: false }),
    });
    await screen.findAllByTestId("webhook-connection");
    const stripe = row("conn-stripe");
    await fireEvent.click(within(stripe).getByTestId("webhook-secret-open"));
    const input = within(stripe).getByTestId("webhook-secret-input") as HTMLInputElement;
    await fireEvent.click(within(stripe).getByTestId("webhook-secret-save"));
    expect((await within(stripe).findByTestId("webhook-secret-error")).textContent).toContain("Paste the signing secret");
    expect(callsOf(calls, "set_webhook_secret")).toEqual([]);

    await fireEvent.input(input, { target: { value: "whsec_refused" } });
    await fireEvent.click(within(stripe).getByTestId("webhook-secret-save"));
    await waitFor(() =>
      expect(within(stripe).getByTestId("webhook-secret-error").textContent).toContain("The webhook secret is empty."),
    );
    expect(input.value).toBe("");
    expect(callsOf(calls, "set_webhook_secret")).toHaveLength(1);
    // The form stays open to try again.
    expect(within(stripe).getByTestId("webhook-secret-input")).toBeTruthy();
  });

  it("asks PayPal for its webhook ID, not a secret, sends it trimmed and shows it", async () => {
    const saved = deferred<WebhookSettingsView>();
    const { calls } = setup({ set_paypal_webhook_id: () => saved.promise });
    await screen.findAllByTestId("webhook-connection");
    const pp = row("conn-paypal");
    expect(within(pp).getByTestId("webhook-endpoint").textContent).toBe("http://127.0.0.1:8723/webhooks/conn-paypal");
    expect(within(pp).queryByTestId("webhook-secret-open")).toBeNull();
    const state = within(pp).getByTestId("webhook-id-set");
    expect(state.dataset.set).toBe("false");
    expect(state.textContent).toContain("events are refused until you give it");
    const open = within(pp).getByTestId("webhook-id-open");
    expect(open.textContent?.trim()).toBe("Set webhook ID…");
    await fireEvent.click(open);
    const input = within(pp).getByTestId("webhook-id-input") as HTMLInputElement;
    expect(input.type).toBe("text");
    expect(pp.textContent).toContain("it is not a secret");

    // Nothing empty is sent.
    await fireEvent.click(within(pp).getByTestId("webhook-id-save"));
    expect((await within(pp).findByTestId("webhook-id-error")).textContent).toContain("Paste the webhook ID first.");
    expect(callsOf(calls, "set_paypal_webhook_id")).toEqual([]);

    await fireEvent.input(input, { target: { value: "  3X188233PA171014C " } });
    await fireEvent.click(within(pp).getByTestId("webhook-id-save"));
    expect(callsOf(calls, "set_paypal_webhook_id")).toEqual([{ connection: "conn-paypal", webhookId: "3X188233PA171014C" }]);
    expect(callsOf(calls, "set_webhook_secret")).toEqual([]);
    saved.resolve(settings({ connections: [hook(), square(), paypalWith({ webhook_id: "3X188233PA171014C" })] }));
    await waitFor(() => expect(within(row("conn-paypal")).getByTestId("webhook-id-set").dataset.set).toBe("true"));
    const after = row("conn-paypal");
    expect(within(after).getByTestId("webhook-id").textContent).toBe("3X188233PA171014C");
    expect(within(after).queryByTestId("webhook-id-input")).toBeNull();
    expect(within(after).getByTestId("webhook-id-open").textContent?.trim()).toBe("Change webhook ID…");
    expect(screen.getByTestId("webhooks-notice").textContent).toContain("Webhook ID saved for PayPal.");
  });

  it("shows a refused PayPal webhook ID's error and keeps what was typed", async () => {
    const message = '"not an id" is not a PayPal webhook ID: copy the ID PayPal shows for the webhook.';
    const { calls } = setup({
      get_webhook_settings: () => settings({ connections: [hook(), square(), paypalWith({ webhook_id: "3X188233PA171014C" })] }),
      set_paypal_webhook_id: () => Promise.reject({ code: "invalid_input", message, retryable: false }),
    });
    await screen.findAllByTestId("webhook-connection");
    const pp = row("conn-paypal");
    await fireEvent.click(within(pp).getByTestId("webhook-id-open"));
    const input = within(pp).getByTestId("webhook-id-input") as HTMLInputElement;
    // The form starts from the ID set.
    expect(input.value).toBe("3X188233PA171014C");
    await fireEvent.input(input, { target: { value: "not an id" } });
    await fireEvent.click(within(pp).getByTestId("webhook-id-save"));
    await waitFor(() => expect(within(pp).getByTestId("webhook-id-error").textContent).toContain("is not a PayPal webhook ID"));
    expect(input.value).toBe("not an id");
    expect(callsOf(calls, "set_paypal_webhook_id")).toHaveLength(1);
  });

  it("lists recent events, accepted and rejected with the reason, and reloads them after a sync", async () => {
    let listed: WebhookEventView[] = [
      event({
        id: "ev-2",
        event_id: null,
        event_type: null,
        outcome: "rejected",
        reason: "no v1 signature matches the body with the connection's secret",
      }),
      event(),
    ];
    const { app, calls } = setup({ list_webhook_events: () => listed });
    const rows = await screen.findAllByTestId("webhook-event-row");
    expect(rows).toHaveLength(2);
    const [rejected, accepted] = rows as [HTMLElement, HTMLElement];
    expect(rejected.dataset.outcome).toBe("rejected");
    expect(rejected.querySelector(".chip")?.textContent).toBe("Rejected");
    expect(rejected.textContent).toContain("no v1 signature matches");
    expect(accepted.querySelector(".chip")?.textContent).toBe("Accepted");
    expect(accepted.textContent).toContain("charge.succeeded");
    expect(accepted.textContent).toContain("evt_1");
    expect(accepted.textContent).toContain("Main");
    expect(callsOf(calls, "list_webhook_events")).toEqual([{ limit: 20 }]);

    // A webhook's sync bumps the data version: the list is read again (settings are not).
    listed = [event({ id: "ev-3", event_id: "evt_3" }), ...listed];
    await app.dataChanged().catch(() => {});
    await waitFor(() => expect(screen.getAllByTestId("webhook-event-row")).toHaveLength(3));
    expect(callsOf(calls, "get_webhook_settings")).toHaveLength(1);
  });

  it("says when no event has arrived yet", async () => {
    setup();
    expect((await screen.findByTestId("webhooks-no-events")).textContent).toContain("No events received yet");
  });

  it("keeps the switch and port off in the demo and says why", async () => {
    setup({}, "demo");
    await screen.findByTestId("webhooks-status");
    expect((screen.getByTestId("webhooks-enabled") as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByTestId("webhooks-port") as HTMLInputElement).disabled).toBe(true);
    expect(status().textContent).toContain("leave the demo");
  });
});
