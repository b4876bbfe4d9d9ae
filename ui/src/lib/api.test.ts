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
    await api.reconnectConnection({ connection_id: "conn-1", account: null, switch_account: true, feature: null });
    expect((await api.disconnectConnection("conn-1")).revoked).toBe("revoked");
    expect(await api.deleteConnection("conn-1")).toBe("Demo shop");

    expect(callsOf(calls, "oauth_defaults")).toEqual([{ provider: "google_calendar" }]);
    expect(callsOf(calls, "connect_oauth")).toEqual([{ input }]);
    expect(callsOf(calls, "reconnect_connection")).toEqual([
      { input: { connection_id: "conn-1", account: null, switch_account: true, feature: null } },
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
      .reconnectConnection({ connection_id: "conn-1", account: null, switch_account: false, feature: null })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("conflict");
    expect((error as ApiError).message).toBe("You chose another organisation.");
  });
});
