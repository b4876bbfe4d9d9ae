// Small facts about browser sign-ins that several components share. Presentation only: what a
// sign-in does, and whether it worked, is decided on the Rust side.
import type { ApiError } from "../api";

/** The environment variable that gives the app a provider's client id (`SWITCHBOARD_XERO_CLIENT_ID`). */
export const clientIdVariable = (providerKey: string): string =>
  `SWITCHBOARD_${providerKey.toUpperCase()}_CLIENT_ID`;

/** The environment variable that gives the app a provider's auth relay. */
export const relayVariable = (providerKey: string): string =>
  `SWITCHBOARD_${providerKey.toUpperCase()}_RELAY`;

/**
 * The sign-in reached several organisations (or company files) and the user must name one: Rust
 * answers `invalid_input` with a message that lists them ("This sign-in reaches several: …",
 * or "No organisation `x` in this sign-in; it reaches …").
 */
export const needsAccountChoice = (error: ApiError): boolean =>
  error.code === "invalid_input" && /\breaches\b/.test(error.message);

/** The first web address in a message ("Open this address yourself: https://…"), if any. */
export function addressIn(message: string): string | null {
  const match = /https?:\/\/\S+/.exec(message);
  return match ? match[0].replace(/[.,;)]+$/, "") : null;
}

/** What the waiting status says while Rust waits for the browser. */
export const WAITING_TEXT = "Waiting for you to approve in your browser…";
