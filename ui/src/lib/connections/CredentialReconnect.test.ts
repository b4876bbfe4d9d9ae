import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ConnectionView } from "../bindings/ConnectionView";
import AttentionBanner from "../components/AttentionBanner.svelte";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { billionmail, connection, run, stripe, twilio } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

const SECRET = "tw_auth_token_that_must_never_show";
const CONFLICT =
  "These credentials reach account AC999, but “Texts” is connected to AC123. Nothing was changed.";

const texts = (overrides: Partial<ConnectionView> = {}) =>
  connection({
    id: "conn-tw",
    provider: "twilio",
    provider_name: "Twilio SMS & WhatsApp",
    name: "Texts",
    account_id: "AC123",
    account_name: "Acme Texts",
    payment_count: 0,
    ...overrides,
  });
const dead = (overrides: Partial<ConnectionView> = {}) =>
  texts({ status: "needs_reconnect", last_error: "Twilio rejected the credentials.", ...overrides });

function commands(handlers: Record<string, Handler> = {}) {
  return mockCommands({
    list_providers: () => [stripe, twilio, billionmail],
    get_health: () => ({ checked_at: "2024-05-01T10:06:00Z", needs_attention: false, connections: [] }),
    sync_connection: () => [run()],
    list_connections: () => [texts()],
    ...handlers,
  });
}

function state(connections: ConnectionView[]) {
  const app = new AppState();
  app.connections = connections;
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  return { app, syncs };
}

function setup(connections: ConnectionView[], handlers: Record<string, Handler> = {}) {
  const calls = commands(handlers);
  const { app, syncs } = state(connections);
  render(ConnectionsView, { app, syncs, onrequests: () => {} });
  return { calls, app };
}

const text = (element: Element) => element.textContent?.replace(/\s+/g, " ").trim() ?? "";
const card = (name: string) =>
  screen.getAllByTestId("connection-card").find((c) => c.dataset.connectionName === name)!;
const field = (key: string) => screen.getByTestId(`credential-field-${key}`) as HTMLInputElement;

async function fill(secret: string) {
  await fireEvent.input(field("account_sid"), { target: { value: "AC123" } });
  field("secret").value = secret;
  await fireEvent.click(screen.getByTestId("credential-submit"));
}

function secretIsNowhere(secret: string) {
  expect(document.body.innerHTML).not.toContain(secret);
  for (const input of document.querySelectorAll("input")) expect(input.value).not.toContain(secret);
}

describe("reconnecting a connection made with the credentials form", () => {
  it("offers Reconnect on a card that needs it, not on a connected one", async () => {
    const { calls } = setup([
      dead(),
      texts({ id: "conn-ok", name: "Healthy texts" }),
      texts({ id: "conn-off", name: "Old texts", status: "disconnected" }),
      connection({ id: "conn-st", name: "Dead shop", status: "needs_reconnect" }),
    ]);
    await waitFor(() => expect(callsOf(calls, "list_providers")).toHaveLength(1));

    const button = await within(card("Texts")).findByTestId("reconnect-credentials-conn-tw");
    expect(button.getAttribute("aria-label")).toBe("Reconnect Texts with new credentials…");
    expect(text(card("Texts"))).toContain("no longer accepts its credentials");
    expect(within(card("Old texts")).getByTestId("reconnect-credentials-conn-off")).toBeTruthy();
    expect(within(card("Healthy texts")).queryByTestId("reconnect-credentials-conn-ok")).toBeNull();
    // Stripe keeps its own key dialog.
    expect(within(card("Dead shop")).getByTestId("reconnect-key-conn-st")).toBeTruthy();
    expect(screen.getAllByTestId(/^reconnect-credentials-/)).toHaveLength(2);
  });

  it("sends the form without name or address, forgets the secret, updates the card and starts no sync", async () => {
    const answer = deferred<ConnectionView>();
    const { calls } = setup([dead()], { reconnect_with_credentials: () => answer.promise });
    const shown = card("Texts");
    await fireEvent.click(await within(shown).findByTestId("reconnect-credentials-conn-tw"));

    const dialog = screen.getByTestId("credential-reconnect-dialog");
    expect(text(dialog)).toContain("Reconnect “Texts”");
    expect(within(dialog).queryByTestId("credential-name")).toBeNull();
    expect(within(dialog).queryByTestId("credential-advanced-toggle")).toBeNull();
    expect(screen.getByTestId("credential-submit").textContent?.trim()).toBe("Reconnect");

    await fill(SECRET);
    expect(callsOf(calls, "reconnect_with_credentials")).toEqual([
      { input: { connection_id: "conn-tw", values: { account_sid: "AC123", secret: SECRET }, switch_account: false } },
    ]);
    expect(field("secret").value).toBe("");
    secretIsNowhere(SECRET);

    answer.resolve(texts());
    await waitFor(() => expect(screen.queryByTestId("credential-reconnect-dialog")).toBeNull());
    expect(within(shown).queryByTestId("reconnect-credentials-conn-tw")).toBeNull();
    expect(text(within(shown).getByTestId("reconnect-done-conn-tw"))).toBe("Reconnected to Acme Texts.");
    // Switchboard does not pull from Twilio: nothing to sync.
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
  });

  it("leaves out the address of a self-hosted provider", async () => {
    const { calls } = setup(
      [
        connection({
          id: "conn-bm",
          provider: "billionmail",
          provider_name: "BillionMail",
          name: "Mail",
          status: "disconnected",
        }),
      ],
      { reconnect_with_credentials: () => connection({ id: "conn-bm", provider: "billionmail", name: "Mail" }) },
    );
    await fireEvent.click(await within(card("Mail")).findByTestId("reconnect-credentials-conn-bm"));
    const dialog = screen.getByTestId("credential-reconnect-dialog");
    expect(within(dialog).queryByTestId("credential-field-address")).toBeNull();
    for (const f of billionmail.credential_fields.filter((f) => f.key !== "address")) {
      const input = field(f.key);
      if (f.kind === "secret") input.value = "bm-secret";
      else if (f.kind !== "choice") await fireEvent.input(input, { target: { value: "x" } });
    }
    await fireEvent.click(screen.getByTestId("credential-submit"));
    await waitFor(() => expect(callsOf(calls, "reconnect_with_credentials")).toHaveLength(1));
    const sent = callsOf(calls, "reconnect_with_credentials")[0]!.input;
    expect(sent.connection_id).toBe("conn-bm");
    expect(sent.values).not.toHaveProperty("address");
    expect(sent).not.toHaveProperty("name");
  });

  it("shows a rejected secret, keeps the dialog open and empties the secret", async () => {
    setup([dead()], {
      reconnect_with_credentials: () =>
        Promise.reject({ code: "auth_failed", message: "Twilio refused: check the credentials.", retryable: false }),
    });
    await fireEvent.click(await screen.findByTestId("reconnect-credentials-conn-tw"));
    await fill(SECRET);
    const dialog = screen.getByTestId("credential-reconnect-dialog");
    const alert = await within(dialog).findByRole("alert");
    expect(alert.dataset.errorCode).toBe("auth_failed");
    expect(field("secret").value).toBe("");
    expect(field("secret").getAttribute("aria-invalid")).toBe("true");
    secretIsNowhere(SECRET);
  });

  it("on credentials of another account, switches only after confirming, with the secret typed again", async () => {
    const { calls } = setup([dead()], {
      reconnect_with_credentials: (args) =>
        args.input.switch_account
          ? texts({ account_id: "AC999", account_name: "Other Ltd" })
          : Promise.reject({ code: "conflict", message: CONFLICT, retryable: false }),
    });
    await fireEvent.click(await screen.findByTestId("reconnect-credentials-conn-tw"));
    await fill(SECRET);

    const dialog = screen.getByTestId("credential-reconnect-dialog");
    const conflict = await within(dialog).findByTestId("credential-reconnect-conflict");
    expect(conflict.textContent).toContain("Nothing was changed.");
    expect(field("secret").value).toBe("");

    await fireEvent.click(within(conflict).getByTestId("credential-reconnect-switch"));
    expect(text(within(dialog).getByTestId("credential-reconnect-switching"))).toContain(
      "Switch “Texts” to the account these credentials reach?",
    );
    expect(callsOf(calls, "reconnect_with_credentials")).toHaveLength(1);
    expect(screen.getByTestId("credential-submit").textContent?.trim()).toBe("Switch and reconnect");

    await fill(SECRET);
    await waitFor(() => expect(screen.queryByTestId("credential-reconnect-dialog")).toBeNull());
    expect(callsOf(calls, "reconnect_with_credentials").map((a) => a.input.switch_account)).toEqual([false, true]);
    expect(within(card("Texts")).getByTestId("connection-account").textContent).toContain("Other Ltd");
    secretIsNowhere(SECRET);
  });
});

describe("the attention banner", () => {
  it("offers Reconnect for credentials that stopped working and opens the same dialog", async () => {
    const calls = commands({ reconnect_with_credentials: () => texts() });
    const { app, syncs } = state([dead()]);
    app.providers = [stripe, twilio];
    render(AttentionBanner, { app, syncs });

    const banner = screen.getByTestId("attention-banner");
    expect(text(banner)).toContain("Texts needs new credentials: Twilio SMS & WhatsApp no longer accepts the old ones.");
    await fireEvent.click(within(banner).getByTestId("attention-reconnect-credentials-conn-tw"));
    expect(text(screen.getByTestId("credential-reconnect-dialog"))).toContain("Reconnect “Texts”");
    await fill(SECRET);

    await waitFor(() => expect(screen.queryByTestId("credential-reconnect-dialog")).toBeNull());
    expect(callsOf(calls, "reconnect_with_credentials")).toEqual([
      { input: { connection_id: "conn-tw", values: { account_sid: "AC123", secret: SECRET }, switch_account: false } },
    ]);
    expect(app.connections.find((c) => c.id === "conn-tw")?.status).toBe("connected");
    expect(app.reconnects.of("conn-tw")?.done).toBe(true);
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
    secretIsNowhere(SECRET);
  });
});
