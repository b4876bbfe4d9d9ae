// The connection and currency of the last payment request, as the next one's defaults. A
// preference of this window only (no business data): kept in the webview's local storage.

const KEY = "switchboard.payment-request";

export interface RequestChoice {
  /** Connection id. */
  connection: string | null;
  currency: string | null;
}

export function rememberedRequestChoice(): RequestChoice | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<RequestChoice>;
    return {
      connection: typeof value.connection === "string" ? value.connection : null,
      currency: typeof value.currency === "string" && /^[A-Z]{3}$/.test(value.currency) ? value.currency : null,
    };
  } catch {
    return null;
  }
}

export function rememberRequestChoice(choice: RequestChoice): void {
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(choice));
  } catch {
    // Private mode or storage full: the defaults are a convenience only.
  }
}
