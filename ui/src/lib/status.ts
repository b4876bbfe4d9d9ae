// How statuses look: a tone and a human label for each value the Rust side sends.

export type Tone = "ok" | "warn" | "bad" | "info" | "neutral";

export interface StatusLook {
  tone: Tone;
  label: string;
}

function humanise(value: string): string {
  const text = value.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const PAYMENT: Record<string, Tone> = {
  succeeded: "ok",
  pending: "warn",
  failed: "bad",
  unknown: "neutral",
};

const CONNECTION: Record<string, Tone> = {
  connected: "ok",
  needs_reconnect: "warn",
  disconnected: "neutral",
  error: "bad",
};

const RUN: Record<string, Tone> = {
  running: "info",
  succeeded: "ok",
  partial: "warn",
  failed: "bad",
  interrupted: "warn",
  cancelled: "neutral",
};

const TOKEN: Record<string, StatusLook> = {
  valid: { tone: "ok", label: "Active" },
  expiring: { tone: "warn", label: "Renew soon" },
  revoked: { tone: "bad", label: "Needs reconnecting" },
};

function look(table: Record<string, Tone>, value: string): StatusLook {
  return { tone: table[value] ?? "neutral", label: humanise(value) };
}

export const paymentStatus = (status: string): StatusLook => look(PAYMENT, status);
export const connectionStatus = (status: string): StatusLook => look(CONNECTION, status);
export const runStatus = (status: string): StatusLook => look(RUN, status);
/** An OAuth sign-in's state; `null` for connections without one (API keys). */
export const tokenStatus = (state: string): StatusLook | null => TOKEN[state] ?? null;

/**
 * A run that stopped early without anything going wrong with the provider: cancelled by the
 * user, or cut short by the app closing. Its message is a note, not an error.
 */
export const runStoppedEarly = (status: string): boolean =>
  status === "cancelled" || status === "interrupted";

/** The note shown under a sync that was cancelled. */
export const CANCELLED_NOTE = "Cancelled — the next sync continues from the last saved page.";

/**
 * An HTTP answer from a provider: 2xx good, 429 (rate limited) a warning, other 4xx/5xx bad,
 * and no answer at all (`null`: timeout, connection refused…) bad too.
 */
export function requestStatus(status: number | null): StatusLook {
  if (status === null) return { tone: "bad", label: "no answer" };
  const label = String(status);
  if (status >= 200 && status < 300) return { tone: "ok", label };
  if (status === 429) return { tone: "warn", label };
  if (status >= 400) return { tone: "bad", label };
  return { tone: "neutral", label };
}

/** "balance_transactions" → "Balance transactions". */
export const streamLabel = humanise;
