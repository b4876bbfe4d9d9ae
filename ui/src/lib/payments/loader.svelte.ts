// Keyset-paged loading of payments for the virtual table. Pages are fetched strictly in order
// (each needs the previous page's cursor), only as far as the table asks for.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
import type { PaymentFilter } from "../bindings/PaymentFilter";
import type { PaymentView } from "../bindings/PaymentView";

export const PAGE_SIZE = 200;
/** Height of one table row in CSS pixels; the virtual table is laid out from it. */
export const ROW_HEIGHT = 32;

export class PaymentLoader {
  /** Loaded rows, in order; index i is the i-th newest matching payment. Not reactive itself. */
  readonly rows: PaymentView[] = [];
  /** Bumped after every page, so views reading `rows` re-render. */
  version = $state(0);
  /** Count of all matching payments (null until the first page arrives). */
  total = $state<number | null>(null);
  /** Currencies and statuses seen in the loaded rows (for the filter's choices); read with `version`. */
  readonly currencies = new Set<string>();
  readonly statuses = new Set<string>();
  loading = $state(false);
  error = $state<ApiError | null>(null);

  private cursor: string | null = null;
  /** The first page's count; later pages do not count again. */
  private counted: number | null = null;
  private finished = false;
  private wanted = 0;
  private disposed = false;

  /** `generation` only tells loaders of the same query apart after the data changed. */
  constructor(
    readonly filter: PaymentFilter,
    readonly generation = 0,
  ) {}

  get done(): boolean {
    return this.finished;
  }

  /** Makes sure rows up to `index` (inclusive) get loaded, one page after another. */
  ensure(index: number): void {
    this.wanted = index;
    if (!this.loading && !this.error) void this.pump();
  }

  retry(): void {
    this.error = null;
    void this.pump();
  }

  dispose(): void {
    this.disposed = true;
  }

  private async pump(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      while (!this.disposed && !this.finished && this.rows.length <= this.wanted) {
        const first = this.cursor === null;
        const page = await api.listPayments({
          filter: this.filter,
          limit: PAGE_SIZE,
          after: this.cursor,
          // Counting costs more than a page: only the first page of a query asks.
          withTotal: first,
        });
        if (this.disposed) return;
        this.rows.push(...page.items);
        for (const item of page.items) {
          this.currencies.add(item.currency);
          this.statuses.add(item.status);
        }
        if (first) this.counted = page.total;
        this.cursor = page.next_cursor;
        this.finished = page.next_cursor === null || page.items.length === 0;
        // On the last page the loaded rows are the truth, whatever the count said.
        this.total = this.finished
          ? this.rows.length
          : Math.max(this.counted ?? 0, this.rows.length);
        this.version += 1;
      }
    } catch (error) {
      if (!this.disposed) this.error = toApiError(error);
    } finally {
      this.loading = false;
    }
  }
}
