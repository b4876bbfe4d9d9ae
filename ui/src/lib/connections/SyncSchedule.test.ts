import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { connection } from "../../test/fixtures";
import { callsOf, mockCommands } from "../../test/ipc";
import SyncSchedule from "./SyncSchedule.svelte";

describe("sync schedule", () => {
  it("shows the interval and saves a new one, handing back what Rust saved", async () => {
    const saved = connection({ sync_interval_minutes: 15, next_sync_at: "2024-05-01T10:20:00Z" });
    const calls = mockCommands({ set_sync_interval: () => saved });
    const onchanged = vi.fn();
    render(SyncSchedule, { connection: connection(), onchanged });

    const select = screen.getByLabelText("Syncs") as HTMLSelectElement;
    expect(select.value).toBe("60");
    await fireEvent.change(select, { target: { value: "15" } });

    await waitFor(() => expect(onchanged).toHaveBeenCalledWith(saved));
    expect(callsOf(calls, "set_sync_interval")).toEqual([{ connectionId: "conn-1", minutes: 15 }]);
  });

  it("turns scheduled syncs off with null and shows no next time", async () => {
    const calls = mockCommands({
      set_sync_interval: () => connection({ sync_interval_minutes: null, next_sync_at: null }),
    });
    render(SyncSchedule, {
      connection: connection({ sync_interval_minutes: null, next_sync_at: null }),
      onchanged: () => {},
    });
    expect(screen.queryByText(/next/)).toBeNull();
    const select = screen.getByLabelText("Syncs") as HTMLSelectElement;
    expect(select.value).toBe("0");
    await fireEvent.change(select, { target: { value: "0" } });
    await waitFor(() => expect(callsOf(calls, "set_sync_interval")).toHaveLength(1));
    expect(callsOf(calls, "set_sync_interval")).toEqual([{ connectionId: "conn-1", minutes: null }]);
  });

  it("keeps an interval set elsewhere (the CLI) as a choice, and says why a save failed", async () => {
    mockCommands({
      set_sync_interval: () =>
        Promise.reject({ code: "invalid_input", message: "Choose between 1 minute and 1 week.", retryable: false }),
    });
    render(SyncSchedule, { connection: connection({ sync_interval_minutes: 45 }), onchanged: () => {} });
    const select = screen.getByLabelText("Syncs") as HTMLSelectElement;
    expect(select.value).toBe("45");
    expect(screen.getByRole("option", { name: "Every 45 minutes" })).toBeTruthy();
    await fireEvent.change(select, { target: { value: "15" } });
    expect((await screen.findByRole("alert")).textContent).toContain("Choose between");
  });
});
