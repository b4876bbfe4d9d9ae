import { describe, expect, it } from "vitest";
import { formatBytes, formatDate, formatDuration, formatLocalSeconds, formatRelative, formatUtc } from "./time";

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

  it("shows a date without the time", () => {
    expect(formatDate("2024-05-10T12:00:00Z", "en-GB")).toBe("10 May 2024");
    expect(formatDate("not a date")).toBe("not a date");
  });

  it("formats durations", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(4200)).toBe("4.2 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
  });

  it("formats sizes in decimal units", () => {
    expect(formatBytes(0, "en")).toBe("0 B");
    expect(formatBytes(999, "en")).toBe("999 B");
    expect(formatBytes(1500, "en")).toBe("1.5 kB");
    expect(formatBytes(48_213, "en")).toBe("48 kB");
    expect(formatBytes(999_700, "en")).toBe("1 MB");
    expect(formatBytes(3_200_000, "en")).toBe("3.2 MB");
  });

  it("shows local times to the second", () => {
    expect(formatLocalSeconds("2024-05-01T10:05:09Z", "en")).toMatch(/\d{1,2}:\d{2}:\d{2}/);
    expect(formatLocalSeconds("not a date")).toBe("not a date");
  });
});
