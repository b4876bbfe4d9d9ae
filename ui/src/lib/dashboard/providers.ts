// Which connections take payments (the Dashboard, Subscriptions and payment requests are about
// them), and a provider's name for labels.
import type { ConnectionView } from "../bindings/ConnectionView";

/** Catalogue ids of the payment providers. */
export const PAYMENT_PROVIDERS: readonly string[] = ["stripe", "paypal", "square"];

const NAMES: Record<string, string> = { stripe: "Stripe", paypal: "PayPal", square: "Square" };

export function isPaymentsConnection(connection: Pick<ConnectionView, "provider">): boolean {
  return PAYMENT_PROVIDERS.includes(connection.provider);
}

export function hasPaymentsConnection(connections: readonly ConnectionView[]): boolean {
  return connections.some(isPaymentsConnection);
}

/**
 * A provider's display name: the catalogue's or a connection's when given, else the known
 * payment providers', else the key itself.
 */
export function providerName(key: string, known?: string | null): string {
  if (known) return known;
  return NAMES[key] ?? (key ? key.charAt(0).toUpperCase() + key.slice(1) : key);
}
