import { describe, expect, it } from "vitest";
import * as api from "./api";
import { ApiError } from "./api";
import { connection } from "../test/fixtures";
import { callsOf, mockCommands } from "../test/ipc";

describe("api: sign-ins and the end of connections", () => {
  it("sends each command's arguments under the names Rust expects", async () => {
    const disconnected = connection({ status: "disconnected" });
    const calls = mockCommands({
      oauth_defaults: () => ({ client_id: "abc", relay: null }),
      connect_oauth: () => connection({ id: "conn-x" }),
      reconnect_connection: () => connection(),
      disconnect_connection: () => ({ connection: disconnected, revoked: "revoked", message: "Done." }),
      delete_connection: () => "Demo shop",
    });
    const input = {
      provider: "xero",
      name: "Books",
      client_id: "abc",
      client_secret: null,
      api_base: null,
      authorize_url: null,
      token_url: null,
      revoke_url: null,
      relay: null,
      account: "Demo Company",
    };

    expect(await api.oauthDefaults("google_calendar")).toEqual({ client_id: "abc", relay: null });
    expect((await api.connectOAuth(input)).id).toBe("conn-x");
    await api.reconnectConnection({ connection_id: "conn-1", client_secret: null, account: null, switch_account: true, feature: null });
    expect((await api.disconnectConnection("conn-1")).revoked).toBe("revoked");
    expect(await api.deleteConnection("conn-1")).toBe("Demo shop");

    expect(callsOf(calls, "oauth_defaults")).toEqual([{ provider: "google_calendar" }]);
    expect(callsOf(calls, "connect_oauth")).toEqual([{ input }]);
    expect(callsOf(calls, "reconnect_connection")).toEqual([
      { input: { connection_id: "conn-1", client_secret: null, account: null, switch_account: true, feature: null } },
    ]);
    expect(callsOf(calls, "disconnect_connection")).toEqual([{ connectionId: "conn-1" }]);
    expect(callsOf(calls, "delete_connection")).toEqual([{ connectionId: "conn-1" }]);
  });

  it("rejects with the command's error", async () => {
    mockCommands({
      reconnect_connection: () =>
        Promise.reject({ code: "conflict", message: "You chose another organisation.", retryable: false }),
    });
    const error = await api
      .reconnectConnection({ connection_id: "conn-1", client_secret: null, account: null, switch_account: false, feature: null })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("conflict");
    expect((error as ApiError).message).toBe("You chose another organisation.");
  });

  it("sends a connection's new key under the name Rust expects, and its refusal", async () => {
    const calls = mockCommands({
      reconnect_with_key: (args) =>
        args.input.switch_account
          ? connection({ account_id: "acct_456" })
          : Promise.reject({ code: "conflict", message: "These credentials reach account acct_456.", retryable: false }),
    });
    const refused = await api
      .reconnectWithKey({ connection_id: "conn-1", api_key: "rk_test_new", switch_account: false })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("conflict");
    const saved = await api.reconnectWithKey({ connection_id: "conn-1", api_key: "rk_test_new", switch_account: true });
    expect(saved.account_id).toBe("acct_456");
    expect(callsOf(calls, "reconnect_with_key")).toEqual([
      { input: { connection_id: "conn-1", api_key: "rk_test_new", switch_account: false } },
      { input: { connection_id: "conn-1", api_key: "rk_test_new", switch_account: true } },
    ]);
  });
});

describe("api: connecting with credentials", () => {
  it("sends the form under the name Rust expects, and its refusal", async () => {
    const calls = mockCommands({
      connect_with_credentials: (args) =>
        args.input.values.secret === "right"
          ? connection({ id: "conn-tw", provider: "twilio" })
          : Promise.reject({ code: "auth_failed", message: "Twilio refused: check the key.", retryable: false }),
    });
    const input = {
      provider: "twilio",
      name: "Texts",
      api_base: null,
      values: { account_sid: "AC123", secret: "wrong" },
    };
    const refused = await api.connectWithCredentials(input).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("auth_failed");
    expect((refused as ApiError).message).toBe("Twilio refused: check the key.");

    const saved = await api.connectWithCredentials({ ...input, values: { account_sid: "AC123", secret: "right" } });
    expect(saved.id).toBe("conn-tw");
    expect(callsOf(calls, "connect_with_credentials")).toEqual([
      { input },
      { input: { ...input, values: { account_sid: "AC123", secret: "right" } } },
    ]);
  });
});

describe("api: reconnecting with credentials", () => {
  it("sends the new credentials under the name Rust expects, and its refusal", async () => {
    const calls = mockCommands({
      reconnect_with_credentials: (args) =>
        args.input.switch_account
          ? connection({ id: "conn-tw", provider: "twilio", account_id: "AC999" })
          : Promise.reject({ code: "conflict", message: "These credentials reach another account.", retryable: false }),
    });
    const input = { connection_id: "conn-tw", values: { account_sid: "AC999", secret: "s3cret" }, switch_account: false };
    const refused = await api.reconnectWithCredentials(input).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe("conflict");

    const saved = await api.reconnectWithCredentials({ ...input, switch_account: true });
    expect(saved.account_id).toBe("AC999");
    expect(callsOf(calls, "reconnect_with_credentials")).toEqual([
      { input },
      { input: { ...input, switch_account: true } },
    ]);
  });
});
