import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { AppState } from "../state/app.svelte";
import { connection, request, run } from "../../test/fixtures";
import { callsOf, mockCommands, type Handler } from "../../test/ipc";
import SyncActivityView, { type SyncTab } from "./SyncActivityView.svelte";

const shop = connection();
const cafe = connection({ id: "conn-2", name: "Cafe" });

function setup(handlers: Record<string, Handler>, props: { tab?: SyncTab; requestsConnection?: string | null } = {}) {
  const calls = mockCommands({
    list_sync_runs: () => [run()],
    list_requests: () => [],
    list_outbox: () => [],
    ...handlers,
  });
  const app = new AppState();
  app.connections = [shop, cafe];
  app.connectionsLoaded = true;
  render(SyncActivityView, { app, ...props });
  return { app, calls };
}

const chipOf = (row: HTMLElement) =>
  within(row).getByTestId("request-status").querySelector<HTMLElement>(".chip")!;

describe("sync activity", () => {
  it("opens on Runs, with a proper tablist", async () => {
    setup({});
    expect(await screen.findByTestId("sync-run")).toBeTruthy();
    const tablist = screen.getByRole("tablist", { name: "Sync activity" });
    const tabs = within(tablist).getAllByRole("tab");
    expect(tabs.map((t) => t.textContent?.trim())).toEqual(["Runs", "Requests", "Outbox"]);
    expect(tabs[0]!.getAttribute("aria-selected")).toBe("true");
    expect(tabs[0]!.tabIndex).toBe(0);
    expect(tabs[1]!.getAttribute("aria-selected")).toBe("false");
    expect(tabs[1]!.tabIndex).toBe(-1);
    const panel = screen.getByRole("tabpanel");
    expect(panel.getAttribute("aria-labelledby")).toBe(tabs[0]!.id);
    expect(tabs[0]!.getAttribute("aria-controls")).toBe(panel.id);
  });

  it("shows cancelled and interrupted runs with their own chips, their messages as notes", async () => {
    setup({
      list_sync_runs: () => [
        run({
          id: "run-c",
          status: "cancelled",
          error_code: "cancelled",
          error_message: "Cancelled; the next sync continues from the last saved page.",
        }),
        run({ id: "run-i", stream: "refunds", status: "interrupted", error_message: "The app closed during the sync." }),
        run({ id: "run-f", stream: "balance_transactions", status: "failed", error_message: "Stripe said no." }),
      ],
    });
    const [cancelled, interrupted, failed] = await screen.findAllByTestId("sync-run");
    const chip = (row: HTMLElement) => row.querySelector<HTMLElement>(".chip")!;
    expect(chip(cancelled!).textContent).toBe("Cancelled");
    expect(chip(cancelled!).classList.contains("neutral")).toBe(true);
    expect(chip(interrupted!).textContent).toBe("Interrupted");
    expect(chip(interrupted!).classList.contains("warn")).toBe(true);
    expect(chip(failed!).classList.contains("bad")).toBe(true);

    const message = (row: HTMLElement) => within(row).getByTestId("sync-run-message");
    expect(message(cancelled!).textContent).toContain("the next sync continues");
    expect(message(cancelled!).classList.contains("quiet")).toBe(true);
    expect(message(interrupted!).classList.contains("quiet")).toBe(true);
    expect(message(failed!).classList.contains("quiet")).toBe(false);
  });

  it("switches tabs with the arrow keys, Home and End, moving focus", async () => {
    const { calls } = setup({ list_requests: () => [request()] });
    const runsTab = screen.getByTestId("runs-tab");
    const requestsTab = screen.getByTestId("requests-tab");
    runsTab.focus();

    await fireEvent.keyDown(runsTab, { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(requestsTab));
    expect(requestsTab.getAttribute("aria-selected")).toBe("true");
    expect(await screen.findByTestId("request-row")).toBeTruthy();
    expect(callsOf(calls, "list_requests")).toHaveLength(1);

    const outboxTab = screen.getByTestId("outbox-tab");
    await fireEvent.keyDown(requestsTab, { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(outboxTab));
    await fireEvent.keyDown(outboxTab, { key: "ArrowRight" }); // wraps around
    await waitFor(() => expect(document.activeElement).toBe(runsTab));
    expect(runsTab.getAttribute("aria-selected")).toBe("true");

    await fireEvent.keyDown(runsTab, { key: "End" });
    await waitFor(() => expect(document.activeElement).toBe(outboxTab));
    await fireEvent.keyDown(outboxTab, { key: "ArrowLeft" });
    await waitFor(() => expect(document.activeElement).toBe(requestsTab));
    await fireEvent.keyDown(requestsTab, { key: "ArrowLeft" });
    await waitFor(() => expect(document.activeElement).toBe(runsTab));
    await fireEvent.keyDown(runsTab, { key: "ArrowLeft" }); // wraps around
    await waitFor(() => expect(document.activeElement).toBe(outboxTab));
    await fireEvent.keyDown(outboxTab, { key: "Home" });
    await waitFor(() => expect(document.activeElement).toBe(runsTab));
  });

  it("lists the request log with status chips, retries, sizes and request ids", async () => {
    const { calls } = setup({
      list_requests: () => [
        request({ id: 4, status: 200, attempt: 3, path: "/v1/refunds", duration_ms: 1500 }),
        request({ id: 3, status: 429, attempt: 2, request_id: "req_limited", bytes: 120 }),
        request({ id: 2, status: 500, request_id: null, error: "Stripe had an internal error." }),
        request({ id: 1, status: null, request_id: null, bytes: 0, error: "Connection refused." }),
      ],
    });
    await fireEvent.click(screen.getByTestId("requests-tab"));
    const rows = await screen.findAllByTestId("request-row");
    expect(rows).toHaveLength(4);
    expect(callsOf(calls, "list_requests")).toEqual([{ connectionId: null, limit: 500 }]);

    const [ok, limited, failed, silent] = rows as [HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    expect(ok.textContent).toContain("Demo shop");
    expect(ok.textContent).toMatch(/GET\s*\/v1\/refunds/);
    expect(ok.querySelector(".mono")?.getAttribute("title")).toBe("GET 127.0.0.1:9999/v1/refunds");
    expect(ok.querySelector("time")?.getAttribute("title")).toBe("2024-05-01 10:00:01 UTC");
    expect(ok.textContent).toContain("1.5 s");
    expect(ok.textContent).toContain("48 kB");

    expect(chipOf(ok).textContent).toBe("200");
    expect(chipOf(ok).classList.contains("ok")).toBe(true);
    expect(chipOf(limited).textContent).toBe("429");
    expect(chipOf(limited).classList.contains("warn")).toBe(true);
    expect(chipOf(failed).textContent).toBe("500");
    expect(chipOf(failed).classList.contains("bad")).toBe(true);
    expect(chipOf(failed).title).toBe("Stripe had an internal error.");
    expect(chipOf(silent).textContent).toBe("no answer");
    expect(chipOf(silent).classList.contains("bad")).toBe(true);
    expect(chipOf(silent).title).toBe("Connection refused.");

    // Attempt 3 is the second retry; a first try shows no marker.
    expect(within(ok).getByTestId("request-retry").textContent?.trim()).toBe("retry 2");
    expect(within(limited).getByTestId("request-retry").textContent?.trim()).toBe("retry 1");
    expect(within(failed).queryByTestId("request-retry")).toBeNull();

    expect(limited.textContent).toContain("120 B");
    expect(within(limited).getByTestId("request-id").textContent).toBe("req_limited");
    expect(within(limited).getByRole("button", { name: "Copy request ID req_limited" })).toBeTruthy();
    expect(within(failed).queryByRole("button", { name: /Copy request ID/ })).toBeNull();
  });

  it("filters the log per connection, sending its id", async () => {
    const { calls } = setup({
      list_requests: (args) =>
        args.connectionId === "conn-2"
          ? [request({ id: 9, connection_id: "conn-2", connection: "Cafe" })]
          : [request(), request({ id: 2, connection_id: "conn-2", connection: "Cafe" })],
    });
    await fireEvent.click(screen.getByTestId("requests-tab"));
    expect(await screen.findAllByTestId("request-row")).toHaveLength(2);

    await fireEvent.change(screen.getByTestId("connection-filter"), { target: { value: "conn-2" } });
    await waitFor(() => expect(screen.getAllByTestId("request-row")).toHaveLength(1));
    expect(screen.getByTestId("request-row").textContent).toContain("Cafe");
    expect(callsOf(calls, "list_requests").at(-1)).toEqual({ connectionId: "conn-2", limit: 500 });

    await fireEvent.click(screen.getByTestId("refresh-requests"));
    await waitFor(() => expect(callsOf(calls, "list_requests")).toHaveLength(3));
    expect(callsOf(calls, "list_requests").at(-1)).toEqual({ connectionId: "conn-2", limit: 500 });
  });

  it("opens straight on Requests filtered to a connection when asked", async () => {
    const { calls } = setup({ list_requests: () => [request()] }, { tab: "requests", requestsConnection: "conn-1" });
    expect(await screen.findByTestId("request-row")).toBeTruthy();
    expect(screen.getByTestId("requests-tab").getAttribute("aria-selected")).toBe("true");
    expect((screen.getByTestId("connection-filter") as HTMLSelectElement).value).toBe("conn-1");
    expect(callsOf(calls, "list_requests")).toEqual([{ connectionId: "conn-1", limit: 500 }]);
    expect(callsOf(calls, "list_sync_runs")).toHaveLength(0);
  });

  it("says when there are no requests yet", async () => {
    setup({ list_requests: () => [] });
    await fireEvent.click(screen.getByTestId("requests-tab"));
    const empty = await screen.findByTestId("requests-empty");
    expect(empty.textContent).toContain("No requests yet");
    expect(empty.textContent).toContain("Requests appear here after a sync.");
  });

  it("shows a failed load with a retry", async () => {
    let fail = true;
    setup({
      list_requests: () =>
        fail ? Promise.reject({ code: "internal", message: "The log is unreadable.", retryable: true }) : [request()],
    });
    await fireEvent.click(screen.getByTestId("requests-tab"));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The log is unreadable.");
    fail = false;
    await fireEvent.click(within(alert).getByRole("button", { name: "Retry" }));
    expect(await screen.findByTestId("request-row")).toBeTruthy();
  });
});
