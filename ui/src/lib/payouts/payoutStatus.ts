// How payout and dispute statuses look; a tone and a label for each value the Rust side sends.
import type { StatusLook, Tone } from "../status";
import { streamLabel } from "../status";

const PAYOUT: Record<string, Tone> = {
  pending: "warn",
  in_transit: "info",
  paid: "ok",
  failed: "bad",
  canceled: "neutral",
  unknown: "neutral",
};

export const payoutStatus = (status: string): StatusLook => ({
  tone: PAYOUT[status] ?? "neutral",
  label: streamLabel(status),
});

const DISPUTE: Record<string, Tone> = {
  needs_response: "bad",
  warning_needs_response: "bad",
  evidence_required: "bad",
  under_review: "info",
  warning_under_review: "info",
  processing: "info",
  won: "ok",
  lost: "bad",
  accepted: "neutral",
  warning_closed: "neutral",
  closed: "neutral",
  resolved: "neutral",
};

/** Statuses after which no evidence is due any more. */
const DISPUTE_CLOSED = new Set(["won", "lost", "accepted", "warning_closed", "closed", "resolved"]);

export const disputeStatus = (status: string): StatusLook => ({
  tone: DISPUTE[status.toLowerCase()] ?? "warn",
  label: streamLabel(status.toLowerCase()),
});

export const disputeOpen = (status: string): boolean => !DISPUTE_CLOSED.has(status.toLowerCase());
