import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { googleCalendar, mautic, paypal, quickbooks, stripe, xero } from "../../test/fixtures";
import { mockCommands } from "../../test/ipc";
import ProviderPicker from "./ProviderPicker.svelte";

/** PayPal as not available yet, to stand for whatever is coming soon. */
const soon = { ...paypal, available: false };
const ALL = [stripe, soon, xero, quickbooks, mautic, googleCalendar];

async function open() {
  mockCommands({ list_providers: () => ALL });
  const onpick = vi.fn();
  render(ProviderPicker, { onpick, onclose: () => {} });
  const picker = screen.getByTestId("provider-picker");
  await within(picker).findByTestId("provider-stripe");
  const search = screen.getByTestId("provider-search") as HTMLInputElement;
  return { onpick, picker, search };
}

const shown = (picker: HTMLElement) =>
  [...picker.querySelectorAll(".provider")].map((p) => p.querySelector("span:not(.badge)")?.textContent);

const sections = (picker: HTMLElement) => [...picker.querySelectorAll("section")].map((s) => s.getAttribute("aria-label"));

describe("provider picker", () => {
  it("groups providers by category and focuses the search box", async () => {
    const { picker, search } = await open();
    expect(sections(picker)).toEqual(["Payments", "Accounting", "Marketing", "Calendar"]);
    await waitFor(() => expect(document.activeElement).toBe(search));
    expect(picker.textContent).toContain("Coming soon");
  });

  it("filters by name and by category", async () => {
    const { picker, search } = await open();
    await fireEvent.input(search, { target: { value: "quick" } });
    expect(shown(picker)).toEqual(["QuickBooks Online"]);
    expect(sections(picker)).toEqual(["Accounting"]);

    await fireEvent.input(search, { target: { value: "Accounting" } });
    expect(shown(picker)).toEqual(["Xero", "QuickBooks Online"]);

    await fireEvent.input(search, { target: { value: "calendar" } });
    expect(shown(picker)).toEqual(["Google Calendar"]);

    // Not-yet-available providers stay listed as coming soon.
    await fireEvent.input(search, { target: { value: "payp" } });
    expect(shown(picker)).toEqual(["PayPal"]);
    expect(within(picker).queryByTestId("provider-paypal")).toBeNull();
    expect(picker.textContent).toContain("Coming soon");
  });

  it("says when nothing matches", async () => {
    const { picker, search } = await open();
    expect(within(picker).queryByTestId("provider-search-empty")).toBeNull();
    await fireEvent.input(search, { target: { value: "zzz" } });
    expect(within(picker).getByTestId("provider-search-empty").textContent).toContain("No provider matches “zzz”");
    expect(picker.querySelectorAll("section")).toHaveLength(0);
  });

  it("Enter picks the first available match", async () => {
    const { onpick, search } = await open();
    await fireEvent.input(search, { target: { value: "ma" } });
    // "Marketing" and "Mautic" match; PayPal ("payments") does not.
    await fireEvent.keyDown(search, { key: "Enter" });
    expect(onpick).toHaveBeenCalledTimes(1);
    expect(onpick.mock.calls[0]![0].key).toBe("mautic");
  });

  it("Enter skips what is coming soon, and does nothing without an available match", async () => {
    const { onpick, search } = await open();
    await fireEvent.input(search, { target: { value: "paypal" } });
    await fireEvent.keyDown(search, { key: "Enter" });
    await fireEvent.input(search, { target: { value: "nothing like it" } });
    await fireEvent.keyDown(search, { key: "Enter" });
    expect(onpick).not.toHaveBeenCalled();

    await fireEvent.input(search, { target: { value: "payments" } });
    await fireEvent.keyDown(search, { key: "Enter" });
    expect(onpick.mock.calls[0]![0].key).toBe("stripe");
  });
});
