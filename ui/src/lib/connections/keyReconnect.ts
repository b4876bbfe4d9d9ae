// Which connections take a new API key (Rust's `reconnect_with_key` serves Stripe) or new
// credentials from their form (`reconnect_with_credentials`) to reconnect,
// and when they are offered it. Presentation only: Rust checks the key and decides.
import type { ConnectionView } from "../bindings/ConnectionView";
import type { ProviderInfo } from "../bindings/ProviderInfo";

/** It connects with an API key that can be replaced on the same connection. */
export const reconnectsWithKey = (connection: ConnectionView): boolean => connection.provider === "stripe";

/** It has no working key (it died at the provider, or it was disconnected): offer a new one. */
export const needsNewKey = (connection: ConnectionView): boolean =>
  reconnectsWithKey(connection) &&
  (connection.status === "needs_reconnect" || connection.status === "disconnected");

/**
 * It was connected with the credentials form (PayPal, Twilio, SendGrid, BillionMail, SMTP: no
 * browser sign-in, a form in the catalogue), whose credentials can be replaced on the same
 * connection (Rust's `reconnect_with_credentials`). Stripe keeps its own key dialog.
 */
export const reconnectsWithCredentials = (connection: ConnectionView, provider: ProviderInfo | undefined): boolean =>
  !reconnectsWithKey(connection) &&
  provider !== undefined &&
  provider.key === connection.provider &&
  provider.oauth == null &&
  provider.credential_fields.length > 0;

/** Its credentials stopped working, or it was disconnected: offer the form again. */
export const needsNewCredentials = (connection: ConnectionView, provider: ProviderInfo | undefined): boolean =>
  reconnectsWithCredentials(connection, provider) &&
  (connection.status === "needs_reconnect" || connection.status === "disconnected");
