import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import type { ProviderInfo } from "../bindings/ProviderInfo";
import { AppState } from "../state/app.svelte";
import { SyncState } from "../state/sync.svelte";
import { mautic, quickbooks, stripe, xero, xeroConnection } from "../../test/fixtures";
import { callsOf, deferred, mockCommands, type Handler } from "../../test/ipc";
import ConnectionsView from "./ConnectionsView.svelte";

const SECRET = "qb-client-secret-that-must-never-show";
const SEVERAL =
  "This sign-in reaches several: Demo Company (AU) (tenant-1), Other Ltd (tenant-2). Choose one Xero organisation (by name or id).";

function setup(handlers: Record<string, Handler>) {
  const calls = mockCommands({
    list_providers: () => [stripe, xero, quickbooks, mautic],
    oauth_defaults: () => ({ client_id: null, relay: null }),
    ...handlers,
  });
  const app = new AppState();
  app.connectionsLoaded = true;
  const syncs = new SyncState(() => app.dataChanged());
  render(ConnectionsView, { app, syncs, onrequests: () => {} });
  return { calls, app };
}

async function openDialog(provider: ProviderInfo) {
  await fireEvent.click(screen.getByTestId("add-connection"));
  await fireEvent.click(await screen.findByTestId(`provider-${provider.key}`));
  return screen.getByTestId("oauth-dialog");
}

const input = (testid: string) => screen.getByTestId(testid) as HTMLInputElement;
const submit = () => screen.getByTestId("oauth-submit") as HTMLButtonElement;

describe("connecting through a browser sign-in", () => {
  it("explains the sign-in, prefills the client id, and sends the connection to Rust", async () => {
    const created = xeroConnection();
    const { calls, app } = setup({
      oauth_defaults: (args) => ({ client_id: args.provider === "xero" ? "XERO-CLIENT-1" : null, relay: null }),
      connect_oauth: () => created,
    });
    const dialog = await openDialog(xero);

    expect(dialog.textContent).toContain("Your browser opens Xero's sign-in page.");
    const scopes = within(dialog).getByTestId("oauth-scopes");
    expect([...scopes.querySelectorAll("li")].map((li) => li.textContent)).toEqual([
      "openid",
      "offline_access",
      "accounting.settings.read",
    ]);
    expect(within(dialog).getByTestId("oauth-later").textContent).toContain(
      "Asked only when first needed: To post payments",
    );
    expect(input("oauth-name").value).toBe("Xero");
    await waitFor(() => expect(input("oauth-client-id").value).toBe("XERO-CLIENT-1"));
    expect(callsOf(calls, "oauth_defaults")).toEqual([{ provider: "xero" }]);
    expect(dialog.textContent).toContain("SWITCHBOARD_XERO_CLIENT_ID");
    // Xero needs no client secret (PKCE), and Xero has a default API base.
    expect(within(dialog).queryByTestId("oauth-client-secret")).toBeNull();
    expect(within(dialog).queryByTestId("oauth-address")).toBeNull();
    expect(submit().textContent?.trim()).toBe("Sign in with Xero");

    await fireEvent.input(input("oauth-name"), { target: { value: "Books" } });
    await fireEvent.submit(dialog.querySelector("form")!);

    await waitFor(() => expect(screen.queryByTestId("oauth-dialog")).toBeNull());
    expect(callsOf(calls, "connect_oauth")).toEqual([
      {
        input: {
          provider: "xero",
          name: "Books",
          client_id: "XERO-CLIENT-1",
          client_secret: null,
          api_base: null,
          authorize_url: null,
          token_url: null,
          revoke_url: null,
          relay: null,
          account: null,
        },
      },
    ]);
    expect(app.connections).toEqual([created]);
    const card = await screen.findByTestId("connection-card");
    expect(card.dataset.connectionName).toBe("Books");
    // Nothing is pulled from an accounting connection yet: no first sync.
    expect(callsOf(calls, "sync_connection")).toHaveLength(0);
  });

  it("says it waits for the browser and keeps the form disabled meanwhile", async () => {
    const answer = deferred<unknown>();
    setup({
      oauth_defaults: () => ({ client_id: "XERO-CLIENT-1", relay: null }),
      connect_oauth: () => answer.promise,
    });
    const dialog = await openDialog(xero);
    await waitFor(() => expect(submit().disabled).toBe(false));
    await fireEvent.click(submit());

    const waiting = await within(dialog).findByTestId("oauth-waiting");
    expect(waiting.getAttribute("role")).toBe("status");
    expect(waiting.textContent).toContain("Waiting for you to approve in your browser…");
    expect(submit().disabled).toBe(true);
    expect(input("oauth-name").closest("fieldset")!.disabled).toBe(true);
    // The sign-in cannot be abandoned halfway by Esc.
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.getByTestId("oauth-dialog")).toBeTruthy();

    answer.reject({ code: "auth_failed", message: "You declined the sign-in at Xero.", retryable: false });
    const error = await within(dialog).findByTestId("oauth-error");
    expect(within(error).getByRole("alert").textContent).toContain("You declined the sign-in at Xero.");
    expect(within(dialog).queryByTestId("oauth-waiting")).toBeNull();
    expect(submit().disabled).toBe(false);
  });

  it("asks for the organisation when the sign-in reaches several, and sends it on the next try", async () => {
    let attempt = 0;
    const { calls } = setup({
      oauth_defaults: () => ({ client_id: "XERO-CLIENT-1", relay: null }),
      connect_oauth: () => {
        attempt += 1;
        return attempt === 1
          ? Promise.reject({ code: "invalid_input", message: SEVERAL, retryable: false })
          : xeroConnection();
      },
    });
    const dialog = await openDialog(xero);
    await waitFor(() => expect(submit().disabled).toBe(false));
    expect(within(dialog).queryByTestId("oauth-account")).toBeNull();
    await fireEvent.click(submit());

    const account = await within(dialog).findByTestId("oauth-account");
    expect(within(dialog).getByText("Organisation")).toBeTruthy();
    expect((account as HTMLInputElement).value).toBe("");
    expect(within(dialog).getByTestId("oauth-error").textContent).toContain("Demo Company (AU) (tenant-1), Other Ltd");
    await waitFor(() => expect(document.activeElement).toBe(account));
    // An organisation must be named before signing in again.
    expect(submit().disabled).toBe(true);

    await fireEvent.input(account, { target: { value: "Other Ltd" } });
    await fireEvent.click(submit());
    await waitFor(() => expect(screen.queryByTestId("oauth-dialog")).toBeNull());
    const sent = callsOf(calls, "connect_oauth").map((c) => c.input.account);
    expect(sent).toEqual([null, "Other Ltd"]);
  });

  it("asks for the client secret only when the provider needs one and no relay holds it", async () => {
    const { calls } = setup({
      oauth_defaults: () => ({ client_id: "QB-CLIENT", relay: null }),
      connect_oauth: () => xeroConnection({ provider: "quickbooks" }),
    });
    const dialog = await openDialog(quickbooks);
    const secret = await within(dialog).findByTestId("oauth-client-secret");
    expect((secret as HTMLInputElement).type).toBe("password");
    expect(dialog.textContent).toContain("stored encrypted");
    expect(dialog.textContent).toContain("relay");
    await waitFor(() => expect(input("oauth-client-id").value).toBe("QB-CLIENT"));
    expect(submit().disabled).toBe(true);

    // A relay makes the secret unnecessary.
    await fireEvent.click(screen.getByTestId("oauth-advanced-toggle"));
    await fireEvent.input(input("oauth-relay"), { target: { value: "https://relay.example.com" } });
    expect(within(dialog).queryByTestId("oauth-client-secret")).toBeNull();
    await fireEvent.input(input("oauth-relay"), { target: { value: "" } });

    await fireEvent.input(screen.getByTestId("oauth-client-secret"), { target: { value: SECRET } });
    await fireEvent.click(submit());
    await waitFor(() => expect(screen.queryByTestId("oauth-dialog")).toBeNull());
    const sent = callsOf(calls, "connect_oauth")[0]!.input;
    expect(sent.client_secret).toBe(SECRET);
    expect(sent.relay).toBeNull();
    expect(document.body.innerHTML).not.toContain(SECRET);
  });

  it("takes the relay from the defaults and then asks no secret", async () => {
    const { calls } = setup({
      oauth_defaults: () => ({ client_id: "QB-CLIENT", relay: "https://relay.example.com" }),
      connect_oauth: () => xeroConnection({ provider: "quickbooks" }),
    });
    const dialog = await openDialog(quickbooks);
    await waitFor(() => expect(submit().disabled).toBe(false));
    expect(within(dialog).queryByTestId("oauth-client-secret")).toBeNull();
    await fireEvent.click(screen.getByTestId("oauth-advanced-toggle"));
    expect(input("oauth-relay").value).toBe("https://relay.example.com");
    await fireEvent.click(submit());
    await waitFor(() => expect(callsOf(calls, "connect_oauth")).toHaveLength(1));
    const sent = callsOf(calls, "connect_oauth")[0]!.input;
    expect(sent.relay).toBe("https://relay.example.com");
    expect(sent.client_secret).toBeNull();
  });

  it("forgets the secret after a failed try", async () => {
    setup({
      oauth_defaults: () => ({ client_id: "QB-CLIENT", relay: null }),
      connect_oauth: () =>
        Promise.reject({ code: "auth_failed", message: "Intuit rejected the client.", retryable: false }),
    });
    const dialog = await openDialog(quickbooks);
    await waitFor(() => expect(input("oauth-client-id").value).toBe("QB-CLIENT"));
    await fireEvent.input(screen.getByTestId("oauth-client-secret"), { target: { value: SECRET } });
    await fireEvent.click(submit());
    await within(dialog).findByTestId("oauth-error");
    expect(input("oauth-client-secret").value).toBe("");
    expect(document.body.innerHTML).not.toContain(SECRET);
    expect(dialog.textContent).toContain("paste it again to retry");
  });

  it("requires the Mautic address and sends it as the API base", async () => {
    const { calls } = setup({
      oauth_defaults: () => ({ client_id: "MAUTIC-CLIENT", relay: null }),
      connect_oauth: () => xeroConnection({ provider: "mautic", provider_name: "Mautic", name: "Mautic" }),
    });
    const dialog = await openDialog(mautic);
    const address = within(dialog).getByLabelText("Your Mautic address") as HTMLInputElement;
    expect(address.dataset.testid).toBe("oauth-address");
    await waitFor(() => expect(input("oauth-client-id").value).toBe("MAUTIC-CLIENT"));
    await fireEvent.input(screen.getByTestId("oauth-client-secret"), { target: { value: SECRET } });
    // Mautic has no scopes; and no catalogue API base to override.
    expect(within(dialog).getByTestId("oauth-scopes").textContent).toContain("no separate permissions");
    await fireEvent.click(screen.getByTestId("oauth-advanced-toggle"));
    expect(within(dialog).queryByTestId("oauth-api-base")).toBeNull();
    expect(submit().disabled).toBe(true);

    await fireEvent.input(address, { target: { value: "mautic.example.com" } });
    await fireEvent.submit(dialog.querySelector("form")!);
    expect(within(dialog).getByTestId("oauth-error").textContent).toContain("starting with https://");
    expect(callsOf(calls, "connect_oauth")).toHaveLength(0);

    await fireEvent.input(address, { target: { value: "https://mautic.example.com" } });
    await fireEvent.input(screen.getByTestId("oauth-client-secret"), { target: { value: SECRET } });
    await fireEvent.click(submit());
    await waitFor(() => expect(callsOf(calls, "connect_oauth")).toHaveLength(1));
    const sent = callsOf(calls, "connect_oauth")[0]!.input;
    expect(sent.api_base).toBe("https://mautic.example.com");
    expect(sent.provider).toBe("mautic");
    expect(sent.client_secret).toBe(SECRET);
  });

  it("sends endpoint overrides from Advanced, authorize and token together", async () => {
    const { calls } = setup({
      oauth_defaults: () => ({ client_id: "XERO-CLIENT-1", relay: null }),
      connect_oauth: () => xeroConnection(),
    });
    const dialog = await openDialog(xero);
    await waitFor(() => expect(submit().disabled).toBe(false));
    await fireEvent.click(screen.getByTestId("oauth-advanced-toggle"));
    await fireEvent.input(input("oauth-authorize-url"), { target: { value: "http://127.0.0.1:9001/authorize" } });
    await fireEvent.click(submit());
    expect(within(dialog).getByTestId("oauth-error").textContent).toContain("authorize URL and the token URL");

    await fireEvent.input(input("oauth-token-url"), { target: { value: "http://127.0.0.1:9001/token" } });
    await fireEvent.input(input("oauth-api-base"), { target: { value: "http://127.0.0.1:9002" } });
    await fireEvent.click(submit());
    await waitFor(() => expect(callsOf(calls, "connect_oauth")).toHaveLength(1));
    const sent = callsOf(calls, "connect_oauth")[0]!.input;
    expect(sent.authorize_url).toBe("http://127.0.0.1:9001/authorize");
    expect(sent.token_url).toBe("http://127.0.0.1:9001/token");
    expect(sent.revoke_url).toBeNull();
    expect(sent.api_base).toBe("http://127.0.0.1:9002");
  });

  it("offers the sign-in address when the browser could not be opened", async () => {
    setup({
      oauth_defaults: () => ({ client_id: "XERO-CLIENT-1", relay: null }),
      connect_oauth: () =>
        Promise.reject({
          code: "internal",
          message: "The browser could not be opened (no display). Open this address yourself: https://login.xero.com/authorize?x=1",
          retryable: false,
        }),
    });
    const dialog = await openDialog(xero);
    await waitFor(() => expect(submit().disabled).toBe(false));
    await fireEvent.click(submit());
    const error = await within(dialog).findByTestId("oauth-error");
    expect(error.querySelector("code")?.textContent).toBe("https://login.xero.com/authorize?x=1");
    expect(within(error).getByRole("button", { name: "Copy the sign-in address" })).toBeTruthy();
  });

  it("Esc closes the dialog", async () => {
    setup({});
    await openDialog(xero);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByTestId("oauth-dialog")).toBeNull();
  });
});
