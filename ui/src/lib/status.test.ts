import { describe, expect, it } from "vitest";
import { requestStatus, runStatus, runStoppedEarly } from "./status";

describe("status", () => {
  it("colours HTTP answers: 2xx good, 429 a warning, other errors and no answer bad", () => {
    expect(requestStatus(200)).toEqual({ tone: "ok", label: "200" });
    expect(requestStatus(204).tone).toBe("ok");
    expect(requestStatus(429)).toEqual({ tone: "warn", label: "429" });
    expect(requestStatus(401).tone).toBe("bad");
    expect(requestStatus(503).tone).toBe("bad");
    expect(requestStatus(304).tone).toBe("neutral");
    expect(requestStatus(null)).toEqual({ tone: "bad", label: "no answer" });
  });

  it("shows cancelled and interrupted runs as stopped early, not failed", () => {
    expect(runStatus("cancelled")).toEqual({ tone: "neutral", label: "Cancelled" });
    expect(runStatus("interrupted")).toEqual({ tone: "warn", label: "Interrupted" });
    expect(runStatus("failed").tone).toBe("bad");
    expect(runStoppedEarly("cancelled")).toBe(true);
    expect(runStoppedEarly("interrupted")).toBe(true);
    expect(runStoppedEarly("failed")).toBe(false);
  });
});
