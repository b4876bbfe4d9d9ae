import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative, formatUtc } from "./time";

const NOW = Date.parse("2024-05-01T12:00:00Z");

describe("time", () => {
  it("shows the exact UTC instant", () => {
    expect(formatUtc("2024-05-01T10:05:09.123Z")).toBe("2024-05-01 10:05:09 UTC");
    expect(formatUtc("not a date")).toBe("not a date");
  });

  it("says how long ago, against the given now", () => {
    expect(formatRelative("2024-05-01T11:59:50Z", NOW, "en")).toBe("just now");
    expect(formatRelative("2024-05-01T11:55:00Z", NOW, "en")).toBe("5 minutes ago");
    expect(formatRelative("2024-05-01T09:00:00Z", NOW, "en")).toBe("3 hours ago");
    expect(formatRelative("2024-04-30T12:00:00Z", NOW, "en")).toBe("yesterday");
  });

  it("formats durations", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(4200)).toBe("4.2 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
  });
});
