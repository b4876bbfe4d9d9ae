// Which connections take a new API key to reconnect (Rust's `reconnect_with_key` serves Stripe),
// and when they are offered it. Presentation only: Rust checks the key and decides.
import type { ConnectionView } from "../bindings/ConnectionView";

/** It connects with an API key that can be replaced on the same connection. */
export const reconnectsWithKey = (connection: ConnectionView): boolean => connection.provider === "stripe";

/** It has no working key (it died at the provider, or it was disconnected): offer a new one. */
export const needsNewKey = (connection: ConnectionView): boolean =>
  reconnectsWithKey(connection) &&
  (connection.status === "needs_reconnect" || connection.status === "disconnected");
