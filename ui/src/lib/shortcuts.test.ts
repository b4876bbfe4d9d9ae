import { describe, expect, it } from "vitest";
import { createShortcuts, type ShortcutKey } from "./shortcuts";

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
  });

  it("forgets the g prefix after a pause", () => {
    const resolve = createShortcuts();
    resolve(key("g", { timeStamp: 0 }));
    expect(resolve(key("p", { timeStamp: 5000 }))).toBeNull();
  });

  it("navigates with Alt+1..5, by physical key", () => {
    const resolve = createShortcuts();
    expect(resolve(key("1", { altKey: true }))).toEqual({ kind: "navigate", screen: "connections" });
    expect(resolve(key("¡", { altKey: true, code: "Digit2" }))).toEqual({
      kind: "navigate",
      screen: "payments",
    });
    expect(resolve(key("5", { altKey: true }))).toEqual({ kind: "navigate", screen: "settings" });
    expect(resolve(key("9", { altKey: true }))).toBeNull();
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
