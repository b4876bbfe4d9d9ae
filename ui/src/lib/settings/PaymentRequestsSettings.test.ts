import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { callsOf, mockCommands } from "../../test/ipc";
import PaymentRequestsSettings from "./PaymentRequestsSettings.svelte";

describe("Settings → Payment requests", () => {
  it("saves the page customers land on, as typed, and shows Rust's refusal", async () => {
    let stored: string | null = null;
    const calls = mockCommands({
      payment_request_settings: () => ({ return_url: stored }),
      set_payment_return_url: ({ url }) => {
        if (typeof url === "string" && !url.startsWith("https://")) {
          return Promise.reject({
            code: "invalid_input",
            message: "Customers are sent there from the provider's payment page, so it must be an https:// address.",
            retryable: false,
          });
        }
        stored = (url as string | null) ?? null;
        return { return_url: stored };
      },
    });
    render(PaymentRequestsSettings);
    const input = await screen.findByTestId<HTMLInputElement>("return-url");
    expect(input.value).toBe("");
    // Nothing to save until something changes.
    expect(screen.getByTestId<HTMLButtonElement>("return-url-save").disabled).toBe(true);

    await fireEvent.input(input, { target: { value: "http://shop.example/thanks" } });
    await fireEvent.click(screen.getByTestId("return-url-save"));
    const error = await screen.findByTestId("return-url-error");
    expect(error.textContent).toContain("https://");
    expect(input.getAttribute("aria-invalid")).toBe("true");

    await fireEvent.input(input, { target: { value: " https://shop.example/thanks " } });
    await fireEvent.click(screen.getByTestId("return-url-save"));
    await screen.findByTestId("return-url-notice");
    expect(callsOf(calls, "set_payment_return_url").at(-1)).toEqual({ url: "https://shop.example/thanks" });
    expect(screen.queryByTestId("return-url-error")).toBeNull();

    // Back to the providers' own page.
    await fireEvent.click(screen.getByTestId("return-url-clear"));
    await waitFor(() => expect(callsOf(calls, "set_payment_return_url").at(-1)).toEqual({ url: null }));
    await waitFor(() => expect(input.value).toBe(""));
    expect(screen.queryByTestId("return-url-clear")).toBeNull();
  });

  it("says why it could not load, with a retry", async () => {
    let fail = true;
    mockCommands({
      payment_request_settings: () =>
        fail
          ? Promise.reject({ code: "storage", message: "The local database failed.", retryable: true })
          : { return_url: "https://shop.example/thanks" },
    });
    render(PaymentRequestsSettings);
    await screen.findByText(/The local database failed/);
    fail = false;
    await fireEvent.click(await screen.findByRole("button", { name: /try again|retry/i }));
    const input = await screen.findByTestId<HTMLInputElement>("return-url");
    expect(input.value).toBe("https://shop.example/thanks");
  });
});
