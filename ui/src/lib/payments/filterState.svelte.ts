// The Payments screen's filter, kept outside the screen so it survives switching screens.
// One per app window; it forgets itself when another workspace opens (the demo's connection
// ids and searches mean nothing in the real workspace).
import { EMPTY_FORM, type FilterForm } from "./filters";

class PaymentFilterState {
  /** What the filter bar shows; the screen applies it (typed fields after a pause). */
  form = $state<FilterForm>({ ...EMPTY_FORM });
  /** The workspace the filter belongs to (its path), once known. */
  private workspace: string | null = null;

  clear(): void {
    this.form = { ...EMPTY_FORM };
  }

  /** Clears the filter when `path` is another workspace than the one it was made in. */
  belongsTo(path: string | null): void {
    if (path === null) return;
    if (this.workspace !== null && this.workspace !== path) this.clear();
    this.workspace = path;
  }

  /** Back to a fresh start (tests). */
  reset(): void {
    this.clear();
    this.workspace = null;
  }
}

export const paymentFilters = new PaymentFilterState();
