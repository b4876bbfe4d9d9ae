// Global keyboard shortcuts: "g" then a letter, or Alt+1..9 (the first nine screens), to switch
// screens; "/" to focus the screen's search or filter. Pure logic over KeyboardEvent-like values,
// so it is testable.

export type Screen =
  | "dashboard"
  | "connections"
  | "payments"
  | "payouts"
  | "subscriptions"
  | "sync"
  | "messages"
  | "settings";

/** The screens in sidebar order; Alt+N opens the N-th (N up to 9). */
export const SCREENS: { id: Screen; label: string; key: string }[] = [
  { id: "dashboard", label: "Dashboard", key: "d" },
  { id: "connections", label: "Connections", key: "c" },
  { id: "payments", label: "Payments", key: "p" },
  { id: "payouts", label: "Payouts", key: "o" },
  { id: "subscriptions", label: "Subscriptions", key: "u" },
  { id: "sync", label: "Sync activity", key: "s" },
  { id: "messages", label: "Messages", key: "m" },
  { id: "settings", label: "Settings", key: "t" },
];

export interface ShortcutKey {
  key: string;
  /** Physical key ("Digit1"); Alt+digit gives other characters on some layouts. */
  code: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  /** The element the key was pressed in. */
  target: EventTarget | null;
  /** Milliseconds; the "g" prefix expires after `PREFIX_MS`. */
  timeStamp: number;
}

export type ShortcutAction = { kind: "navigate"; screen: Screen } | { kind: "search" } | null;

const PREFIX_MS = 1500;

function isTextEntry(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== "string") return false;
  const el = target as HTMLElement;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

/** Returns a stateful resolver: feed it every keydown; it says what to do, if anything. */
export function createShortcuts(): (event: ShortcutKey) => ShortcutAction {
  let prefixAt: number | null = null;

  return (event) => {
    if (event.ctrlKey || event.metaKey || isTextEntry(event.target)) {
      prefixAt = null;
      return null;
    }
    if (event.altKey) {
      prefixAt = null;
      const digit = /^Digit(\d)$/.exec(event.code)?.[1] ?? event.key;
      const index = Number.parseInt(digit, 10) - 1;
      const screen = index >= 0 && index < 9 ? SCREENS[index] : undefined;
      return screen ? { kind: "navigate", screen: screen.id } : null;
    }
    const key = event.key.toLowerCase();
    if (prefixAt !== null && event.timeStamp - prefixAt <= PREFIX_MS) {
      prefixAt = null;
      const screen = SCREENS.find((s) => s.key === key);
      return screen ? { kind: "navigate", screen: screen.id } : null;
    }
    prefixAt = null;
    if (key === "g") {
      prefixAt = event.timeStamp;
      return null;
    }
    if (event.key === "/") return { kind: "search" };
    return null;
  };
}
