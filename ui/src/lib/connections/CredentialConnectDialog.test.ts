import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import type { ProviderInfo } from "../bindings/ProviderInfo";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { billionmail, connection, mautic, paypal, run, sendgrid, smtp, stripe, twilio, xero } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";
import CredentialConnectDialog from "./CredentialConnectDialog.svelte";

const SECRET = "EJ-paypal-secret-that-must-never-show";

const paypalConnection = (overrides: Partial<ConnectionView> = {}) =>
  connection({
    id: "conn-pp",
    provider: "paypal",
    provider_name: "PayPal",
    name: "PayPal",
    account_id: "sandbox:APP-80W284485P519543T",
    account_name: null,
    api_base: "https://api-m.sandbox.paypal.com",
    last_sync_at: null,
    payment_count: 0,
    sync_interval_minutes: null,
    next_sync_at: null,
    ...overrides,
  });

/** The dialog on its own, for one provider. */
function open(provider: ProviderInfo, handlers: Record<string, Handler> = {}) {
  const calls = mockCommands({ connect_with_credentials: () => paypalConnection(), ...handlers });
  const oncreated = vi.fn();
  const onclose = vi.fn();
  render(CredentialConnectDialog, { provider, oncreated, onclose });
  return { calls, oncreated, onclose, dialog: screen.getByTestId("credential-dialog") };
}

const field = (key: string) => screen.getByTestId(`credential-field-${key}`) as HTMLInputElement;
const select = (key: string) => screen.getByTestId(`credential-field-${key}`) as HTMLSelectElement;

async function type(key: string, value: string) {
  await fireEvent.input(field(key), { target: { value } });
}

/** Text as read, whitespace collapsed. */
const text = (element: Element) => element.textContent?.replace(/\s+/g, " ").trim() ?? "";

/** The field's label, with its required mark or "(optional)". */
const labelOf = (key: string) => text(document.querySelector(`label[for="${field(key).id}"]`)!);

function secretIsNowhere(secret: string) {
  expect(document.body.innerHTML).not.toContain(secret);
  for (const input of document.querySelectorAll("input")) expect(input.value).not.toContain(secret);
}

describe("connecting with credentials", () => {
  it("renders PayPal's form: a choice, a text field and a secret, with labels, placeholders and hints", () => {
    const { dialog } = open(paypal);
    expect(text(dialog.querySelector("h2")!)).toBe("Connect PayPal");
    expect((screen.getByTestId("credential-name") as HTMLInputElement).value).toBe("PayPal");

    const environment = select("environment");
    expect(environment.tagName).toBe("SELECT");
    expect([...environment.options].map((o) => o.value)).toEqual(["live", "sandbox"]);
    expect(environment.value).toBe("live");
    expect(labelOf("environment")).toBe("Environment *");

    const clientId = field("client_id");
    expect(clientId.type).toBe("text");
    expect(clientId.required).toBe(true);
    expect(labelOf("client_id")).toBe("Client ID *");
    const hint = document.getElementById(clientId.getAttribute("aria-describedby")!)!;
    expect(hint.textContent).toBe("Developer dashboard → Apps & Credentials → your REST app.");

    const secret = field("client_secret");
    expect(secret.type).toBe("password");
    expect(secret.getAttribute("autocomplete")).toBe("off");
    expect(secret.required).toBe(true);

    expect(text(screen.getByTestId("credential-submit"))).toBe("Connect PayPal");
    // The first field is where the user starts (the name is filled in already).
    expect(document.activeElement).toBe(environment);
  });

  it("sends the values by key, the chosen environment and the API base, then forgets the secret", async () => {
    const answer = deferred<ConnectionView>();
    const { calls, oncreated } = open(paypal, { connect_with_credentials: () => answer.promise });
    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: " Sandbox shop " } });
    await fireEvent.change(select("environment"), { target: { value: "sandbox" } });
    await type("client_id", " APP-80W284485P519543T ");
    await type("client_secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-advanced-toggle"));
    await fireEvent.input(screen.getByTestId("credential-api-base"), { target: { value: "http://127.0.0.1:12111" } });
    await fireEvent.click(screen.getByTestId("credential-submit"));

    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      {
        input: {
          provider: "paypal",
          name: "Sandbox shop",
          api_base: "http://127.0.0.1:12111",
          values: { environment: "sandbox", client_id: "APP-80W284485P519543T", client_secret: SECRET },
        },
      },
    ]);
    // Forgotten at once, before PayPal answers.
    expect(field("client_secret").value).toBe("");
    secretIsNowhere(SECRET);
    expect(text(screen.getByTestId("credential-checking"))).toBe("Checking with PayPal…");
    expect(screen.getByTestId("credential-submit").hasAttribute("disabled")).toBe(true);
    expect(text(screen.getByTestId("credential-submit"))).toBe("Checking…");

    answer.resolve(paypalConnection());
    await waitFor(() => expect(oncreated).toHaveBeenCalledTimes(1));
    expect(oncreated.mock.calls[0]![0].id).toBe("conn-pp");
    secretIsNowhere(SECRET);
  });

  it("defaults a choice to its first value and sends no API base unless one is given", async () => {
    const { calls } = open(paypal);
    await type("client_id", "APP-1");
    await type("client_secret", SECRET);
    await fireEvent.submit(screen.getByTestId("credential-submit").closest("form")!);
    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      {
        input: {
          provider: "paypal",
          name: "PayPal",
          api_base: null,
          values: { environment: "live", client_id: "APP-1", client_secret: SECRET },
        },
      },
    ]);
  });

  it("shows a refusal, empties the secret, marks it and stays open to retry", async () => {
    const { calls, oncreated, dialog } = open(paypal, {
      connect_with_credentials: () =>
        Promise.reject({
          code: "auth_failed",
          message: "PayPal refused these credentials: check the key and the environment.",
          retryable: false,
        }),
    });
    await type("client_id", "APP-1");
    await type("client_secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));

    const error = await within(dialog).findByTestId("credential-error");
    const alert = within(error).getByRole("alert");
    expect(alert.dataset.errorCode).toBe("auth_failed");
    expect(alert.textContent).toContain("check the key");
    expect(text(error)).toContain("fill them in again to retry");
    expect(field("client_secret").value).toBe("");
    expect(field("client_secret").getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement).toBe(field("client_secret")));
    // What is not secret stays, to fix and retry.
    expect(field("client_id").value).toBe("APP-1");
    expect(oncreated).not.toHaveBeenCalled();
    expect(callsOf(calls, "connect_with_credentials")).toHaveLength(1);
    secretIsNowhere(SECRET);
  });

  it("marks the name when it is already used", async () => {
    open(paypal, {
      connect_with_credentials: () =>
        Promise.reject({ code: "conflict", message: "A connection named “PayPal” exists already.", retryable: false }),
    });
    await type("client_id", "APP-1");
    await type("client_secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(await screen.findByText("A connection named “PayPal” exists already.")).toBeTruthy();
    expect(screen.getByTestId("credential-name").getAttribute("aria-invalid")).toBe("true");
    expect(field("client_secret").value).toBe("");
  });

  it("requires the required fields and sends nothing without them", async () => {
    const { calls } = open(twilio);
    expect(field("account_sid").required).toBe(true);
    expect(field("secret").required).toBe(true);
    expect(field("api_key_sid").required).toBe(false);
    expect(labelOf("api_key_sid")).toBe("API key SID (optional)");

    await type("secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    const error = screen.getByTestId("credential-error");
    expect(text(error)).toContain("Fill in “Account SID”.");
    expect(field("account_sid").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(field("account_sid"));
    expect(callsOf(calls, "connect_with_credentials")).toHaveLength(0);

    await type("account_sid", "AC123");
    await type("secret", "   ");
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(text(screen.getByTestId("credential-error"))).toContain("Fill in “Auth Token or API key secret”.");
    expect(callsOf(calls, "connect_with_credentials")).toHaveLength(0);

    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: "" } });
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(text(screen.getByTestId("credential-error"))).toContain("Give the connection a name.");
    expect(callsOf(calls, "connect_with_credentials")).toHaveLength(0);

    // Optional fields left empty are not sent.
    await fireEvent.input(screen.getByTestId("credential-name"), { target: { value: "Texts" } });
    await type("secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      {
        input: { provider: "twilio", name: "Texts", api_base: null, values: { account_sid: "AC123", secret: SECRET } },
      },
    ]);
    expect(field("secret").value).toBe("");
  });

  it("renders SMTP's number field and its security choice, without an API base", async () => {
    const { calls } = open(smtp);
    const port = field("port");
    expect(port.type).toBe("number");
    expect(port.required).toBe(false);
    expect(port.placeholder).toBe("587");
    expect(select("security").value).toBe("starttls");
    expect(field("password").type).toBe("password");
    // SMTP has no HTTP API to point elsewhere.
    expect(screen.queryByTestId("credential-advanced-toggle")).toBeNull();

    await type("host", "smtp.example.com");
    await fireEvent.change(select("security"), { target: { value: "tls" } });
    await type("port", "465");
    await type("user", "shop@example.com");
    await type("password", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      {
        input: {
          provider: "smtp",
          name: "SMTP email",
          api_base: null,
          values: { host: "smtp.example.com", security: "tls", port: "465", user: "shop@example.com", password: SECRET },
        },
      },
    ]);
    expect(field("password").value).toBe("");
  });

  it("sends BillionMail's address as a value, with no separate API base", async () => {
    const { calls } = open(billionmail);
    const address = field("address");
    expect(address.type).toBe("url");
    expect(address.required).toBe(true);
    expect(address.placeholder).toBe("https://mail.example.com");
    expect(screen.queryByTestId("credential-advanced-toggle")).toBeNull();
    expect(screen.queryByTestId("credential-api-base")).toBeNull();

    await type("address", "https://mail.example.com");
    await type("api_key", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      {
        input: {
          provider: "billionmail",
          name: "BillionMail",
          api_base: null,
          values: { address: "https://mail.example.com", api_key: SECRET },
        },
      },
    ]);
  });

  it("Esc closes it, but not while the provider is being asked", async () => {
    const answer = deferred<ConnectionView>();
    const { onclose } = open(sendgrid, { connect_with_credentials: () => answer.promise });
    await type("api_key", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onclose).not.toHaveBeenCalled();
    answer.reject({ code: "network", message: "Could not reach SendGrid.", retryable: true });
    expect(await screen.findByText("Could not reach SendGrid.")).toBeTruthy();
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onclose).toHaveBeenCalledTimes(1);
  });
});

describe("the credentials form's explanation", () => {
  it("shows the provider's paragraph from the catalogue", () => {
    open(paypal);
    expect(screen.getByTestId("credential-connect-note").textContent).toContain("client ID and secret");
  });
});

describe("credential connections on the Connections screen", () => {
  const PROVIDERS = [stripe, paypal, twilio, sendgrid, smtp, billionmail, xero, mautic];

  function setup(connections: ConnectionView[], handlers: Record<string, Handler> = {}) {
    const calls = mockCommands({
      list_providers: () => PROVIDERS,
      get_health: () => ({ checked_at: "2024-05-01T10:06:00Z", needs_attention: false, connections: [] }),
      ...handlers,
    });
    const app = new AppState();
    app.connections = connections;
    app.connectionsLoaded = true;
    const syncs = new SyncState(() => app.dataChanged());
    render(ConnectionsView, { app, syncs, onrequests: () => {} });
    return { calls, app };
  }

  async function pick(key: string) {
    await fireEvent.click(screen.getByTestId("add-connection"));
    await fireEvent.click(await screen.findByTestId(`provider-${key}`));
  }

  it.each([
    ["twilio", "Connect Twilio SMS & WhatsApp"],
    ["sendgrid", "Connect SendGrid"],
    ["smtp", "Connect SMTP email"],
    ["paypal", "Connect PayPal"],
    ["billionmail", "Connect BillionMail"],
  ])("opens the credentials form for %s", async (key, title) => {
    setup([]);
    await pick(key);
    const dialog = screen.getByTestId("credential-dialog");
    expect(text(dialog.querySelector("h2")!)).toBe(title);
    expect(screen.queryByTestId("stripe-dialog")).toBeNull();
    expect(screen.queryByTestId("oauth-dialog")).toBeNull();
  });

  it("keeps Stripe's own dialog and the sign-in one", async () => {
    setup([]);
    await pick("stripe");
    expect(screen.getByTestId("stripe-dialog")).toBeTruthy();
    await fireEvent.keyDown(window, { key: "Escape" });
    await pick("xero");
    expect(screen.getByTestId("oauth-dialog")).toBeTruthy();
    expect(screen.queryByTestId("credential-dialog")).toBeNull();
  });

  it("offers Mautic's basic auth from its sign-in dialog, and only where a form exists", async () => {
    const { calls } = setup([], {
      oauth_defaults: () => ({ client_id: null, relay: null }),
      connect_with_credentials: () => paypalConnection({ provider: "mautic", name: "Mautic" }),
    });
    await pick("xero");
    expect(screen.queryByTestId("oauth-use-credentials")).toBeNull();
    await fireEvent.keyDown(window, { key: "Escape" });
    await pick("mautic");
    await fireEvent.click(await screen.findByTestId("oauth-use-credentials"));
    expect(screen.queryByTestId("oauth-dialog")).toBeNull();
    await type("address", "https://mautic.example.com");
    await type("user", "admin");
    await type("password", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));
    await waitFor(() => expect(callsOf(calls, "connect_with_credentials")).toHaveLength(1));
    const [args] = callsOf(calls, "connect_with_credentials") as [{ input: { provider: string; values: Record<string, string> } }];
    expect(args.input.provider).toBe("mautic");
    expect(args.input.values).toEqual({ address: "https://mautic.example.com", user: "admin", password: SECRET });
  });

  it("adds a PayPal connection without syncing it, and its card offers no sync", async () => {
    const { calls } = setup([], {
      connect_with_credentials: () => paypalConnection(),
      sync_connection: () => [run()],
    });
    await pick("paypal");
    await type("client_id", "APP-1");
    await type("client_secret", SECRET);
    await fireEvent.click(screen.getByTestId("credential-submit"));

    await waitFor(() => expect(screen.queryByTestId("credential-dialog")).toBeNull());
    const card = screen.getByTestId("connection-card");
    expect(card.dataset.connectionName).toBe("PayPal");
    expect(text(within(card).getByTestId("no-pull-note-conn-pp"))).toBe(
      "Connected. Switchboard does not pull data from PayPal yet.",
    );
    expect(within(card).queryByTestId("sync-now")).toBeNull();
    expect(within(card).queryByTestId("sync-schedule")).toBeNull();
    expect(within(card).queryByTestId("connection-test")).toBeNull();
    expect(screen.queryByTestId("sync-all")).toBeNull();
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
    secretIsNowhere(SECRET);
  });

  it("shows Sync now only on cards of providers Switchboard pulls from", async () => {
    const texts = connection({
      id: "conn-tw",
      provider: "twilio",
      provider_name: "Twilio SMS & WhatsApp",
      name: "Texts",
      status: "needs_reconnect",
      payment_count: 0,
      sync_interval_minutes: null,
      next_sync_at: null,
    });
    const { calls } = setup([connection(), texts], { list_sync_runs: () => [] });
    await waitFor(() => expect(callsOf(calls, "list_providers")).toHaveLength(1));
    const card = (name: string) =>
      screen.getAllByTestId("connection-card").find((c) => c.dataset.connectionName === name)!;

    await waitFor(() => expect(within(card("Texts")).queryByTestId("sync-now")).toBeNull());
    expect(within(card("Texts")).queryByTestId("sync-schedule")).toBeNull();
    expect(within(card("Texts")).queryByTestId("connection-test")).toBeNull();
    // Not "Connected." when it is not.
    expect(text(within(card("Texts")).getByTestId("no-pull-note-conn-tw"))).toBe(
      "Switchboard does not pull data from Twilio SMS & WhatsApp yet.",
    );

    expect(within(card("Demo shop")).getByTestId("sync-now")).toBeTruthy();
    expect(within(card("Demo shop")).getByTestId("sync-schedule")).toBeTruthy();
    expect(within(card("Demo shop")).getByTestId("connection-test")).toBeTruthy();
    expect(within(card("Demo shop")).queryByTestId("no-pull-note-conn-1")).toBeNull();
    expect(screen.getByTestId("sync-all")).toBeTruthy();

    // Its details say why it has no syncs.
    await fireEvent.click(screen.getByTestId("connection-open-conn-tw"));
    const empty = await screen.findByTestId("detail-runs-empty");
    expect(text(empty)).toContain("Switchboard does not pull data from Twilio SMS & WhatsApp yet");
    expect(text(screen.getByTestId("detail-sign-in"))).toBe("With credentials (no sign-in to renew)");
  });
});
