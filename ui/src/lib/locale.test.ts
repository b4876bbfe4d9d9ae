import { describe, expect, it } from "vitest";
import { pickLocale } from "./locale";

describe("pickLocale", () => {
  it("uses the first preferred language", () => {
    expect(pickLocale(["de-DE", "en-US"], "en-US")).toBe("de-DE");
    expect(pickLocale(["en_GB.UTF-8"], "en-US")).toBe("en-GB");
  });

  it("skips C and POSIX, and drops ICU's POSIX variant", () => {
    expect(pickLocale(["C", undefined], "en-US-u-va-posix")).toBe("en-US");
    expect(pickLocale(["POSIX", "C.UTF-8"], "fr-FR")).toBe("fr-FR");
    expect(pickLocale([], "und")).toBe("en-US");
  });
});
