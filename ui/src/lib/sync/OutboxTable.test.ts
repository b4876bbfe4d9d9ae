import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { outboxItem } from "../../test/fixtures";
import { callsOf, mockCommands } from "../../test/ipc";
import OutboxTable from "./OutboxTable.svelte";

const dead = outboxItem({
  id: "item-dead",
  status: "dead",
  is_final: true,
  attempts: 5,
  result_external_id: null,
  last_error_code: "provider_error",
  last_error_message: "Stripe refused the request. Stripe said: “Refund amount is greater than unrefunded amount on charge”",
});
const sent = outboxItem();

describe("outbox table", () => {
  it("lists items with their status and the dead letter's error, Retry and Discard only on dead letters", async () => {
    mockCommands({ list_outbox: () => [dead, sent] });
    render(OutboxTable);
    const rows = await screen.findAllByTestId("outbox-row");
    expect(rows).toHaveLength(2);
    const [deadRow, sentRow] = rows;
    expect(deadRow!.textContent).toContain("Dead letter");
    expect(within(deadRow!).getByTestId("outbox-error").textContent).toContain("greater than unrefunded");
    expect(within(deadRow!).getByTestId("outbox-retry")).toBeTruthy();
    expect(within(deadRow!).getByTestId("outbox-discard")).toBeTruthy();
    expect(sentRow!.textContent).toContain("Sent");
    expect(sentRow!.textContent).toContain("re_1");
    expect(within(sentRow!).queryByTestId("outbox-retry")).toBeNull();
  });

  it("retries a dead letter, then reloads", async () => {
    let retried = false;
    const calls = mockCommands({
      list_outbox: () => (retried ? [{ ...dead, status: "succeeded", result_external_id: "re_9" }] : [dead]),
      retry_dead_letter: () => {
        retried = true;
        return { ...dead, status: "succeeded" };
      },
    });
    render(OutboxTable);
    await fireEvent.click(await screen.findByTestId("outbox-retry"));
    await waitFor(() => expect(screen.getByTestId("outbox-row").dataset.status).toBe("succeeded"));
    expect(callsOf(calls, "retry_dead_letter")).toEqual([{ id: "item-dead" }]);
    expect(callsOf(calls, "list_outbox")).toHaveLength(2);
  });

  it("discards a dead letter, and filters to dead letters", async () => {
    const calls = mockCommands({
      list_outbox: (args) => (args.deadOnly ? [] : [dead]),
      discard_dead_letter: () => ({ ...dead, status: "discarded" }),
    });
    render(OutboxTable);
    await fireEvent.click(await screen.findByTestId("outbox-discard"));
    expect(callsOf(calls, "discard_dead_letter")).toEqual([{ id: "item-dead" }]);
    await fireEvent.click(screen.getByTestId("outbox-dead-only"));
    expect(await screen.findByTestId("outbox-empty")).toBeTruthy();
    expect(callsOf(calls, "list_outbox").at(-1)).toEqual({ deadOnly: true, limit: 200 });
  });

  it("shows an action's error", async () => {
    mockCommands({
      list_outbox: () => [dead],
      retry_dead_letter: () => Promise.reject({ code: "conflict", message: "Another window is sending.", retryable: true }),
    });
    render(OutboxTable);
    await fireEvent.click(await screen.findByTestId("outbox-retry"));
    expect(await screen.findByText(/Another window is sending/)).toBeTruthy();
  });
});
