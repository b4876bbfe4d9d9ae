// The locale for displaying numbers, money and dates: the user's preferred language as the
// webview reports it. A bare "C"/POSIX environment (CI, minimal containers) would otherwise give
// ICU's POSIX variant, which drops digit grouping; such environments fall back to en-US.

function valid(tag: string | undefined): string | undefined {
  if (!tag || tag === "C" || tag === "POSIX" || tag.startsWith("C.")) return undefined;
  try {
    return Intl.getCanonicalLocales(tag.replace(/\..*$/, "").replace(/_/g, "-"))[0];
  } catch {
    return undefined;
  }
}

/** The first usable preferred language, else the runtime's default without its POSIX variant. */
export function pickLocale(preferred: readonly (string | undefined)[], runtimeDefault: string): string {
  const fallback = runtimeDefault.replace(/-u-va-posix$/, "");
  return preferred.map(valid).find((tag) => tag !== undefined) ?? (fallback === "und" ? "en-US" : fallback);
}

let cached: string | undefined;

export function displayLocale(): string {
  cached ??= pickLocale(
    typeof navigator === "undefined" ? [] : [...(navigator.languages ?? []), navigator.language],
    new Intl.NumberFormat().resolvedOptions().locale,
  );
  return cached;
}
