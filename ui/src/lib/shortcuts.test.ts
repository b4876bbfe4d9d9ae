import { describe, expect, it } from "vitest";
import { createShortcuts, SCREENS, type ShortcutKey } from "./shortcuts";

function key(k: string, extra: Partial<ShortcutKey> = {}): ShortcutKey {
  return {
    key: k,
    code: "",
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    target: document.body,
    timeStamp: 1000,
    ...extra,
  };
}

describe("shortcuts", () => {
  it("navigates with g then a letter", () => {
    const resolve = createShortcuts();
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("p", { timeStamp: 1200 }))).toEqual({ kind: "navigate", screen: "payments" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("c", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "connections" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("s", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "sync" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("m", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "messages" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("t", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "settings" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("d", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "dashboard" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("o", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "payouts" });
    expect(resolve(key("g"))).toBeNull();
    expect(resolve(key("U", { timeStamp: 1100 }))).toEqual({ kind: "navigate", screen: "subscriptions" });
  });

  it("lists the screens in sidebar order, each with its own letter", () => {
    expect(SCREENS.map((s) => s.id)).toEqual([
      "dashboard",
      "connections",
      "payments",
      "payouts",
      "subscriptions",
      "sync",
      "messages",
      "settings",
    ]);
    expect(SCREENS.map((s) => s.label)).toEqual([
      "Dashboard",
      "Connections",
      "Payments",
      "Payouts",
      "Subscriptions",
      "Sync activity",
      "Messages",
      "Settings",
    ]);
    expect(new Set(SCREENS.map((s) => s.key)).size).toBe(SCREENS.length);
  });

  it("forgets the g prefix after a pause", () => {
    const resolve = createShortcuts();
    resolve(key("g", { timeStamp: 0 }));
    expect(resolve(key("p", { timeStamp: 5000 }))).toBeNull();
  });

  it("navigates with Alt+1..8, by physical key", () => {
    const resolve = createShortcuts();
    expect(resolve(key("1", { altKey: true }))).toEqual({ kind: "navigate", screen: "dashboard" });
    expect(resolve(key("¡", { altKey: true, code: "Digit2" }))).toEqual({
      kind: "navigate",
      screen: "connections",
    });
    expect(resolve(key("3", { altKey: true }))).toEqual({ kind: "navigate", screen: "payments" });
    expect(resolve(key("4", { altKey: true }))).toEqual({ kind: "navigate", screen: "payouts" });
    expect(resolve(key("5", { altKey: true }))).toEqual({ kind: "navigate", screen: "subscriptions" });
    expect(resolve(key("6", { altKey: true }))).toEqual({ kind: "navigate", screen: "sync" });
    expect(resolve(key("7", { altKey: true }))).toEqual({ kind: "navigate", screen: "messages" });
    expect(resolve(key("8", { altKey: true }))).toEqual({ kind: "navigate", screen: "settings" });
    expect(resolve(key("9", { altKey: true }))).toBeNull();
    expect(resolve(key("0", { altKey: true, code: "Digit0" }))).toBeNull();
  });

  it("focuses search with /", () => {
    expect(createShortcuts()(key("/"))).toEqual({ kind: "search" });
  });

  it("leaves typing in fields alone", () => {
    const resolve = createShortcuts();
    const input = document.createElement("input");
    expect(resolve(key("g", { target: input }))).toBeNull();
    expect(resolve(key("p", { target: input, timeStamp: 1100 }))).toBeNull();
    expect(resolve(key("/", { target: input }))).toBeNull();
  });
});
