// Keyset-paged loading of payments for the virtual table. Pages are fetched strictly in order
// (each needs the previous page's cursor), only as far as the table asks for.
import * as api from "../api";
import type { ApiError } from "../api";
import { toApiError } from "../api";
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
  loading = $state(false);
  error = $state<ApiError | null>(null);

  private cursor: string | null = null;
  private finished = false;
  private wanted = 0;
  private disposed = false;

  /** `generation` only tells loaders of the same query apart after the data changed. */
  constructor(
    private readonly connection: string | null,
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
        const page = await api.listPayments({
          connection: this.connection,
          limit: PAGE_SIZE,
          after: this.cursor,
        });
        if (this.disposed) return;
        this.rows.push(...page.items);
        this.cursor = page.next_cursor;
        this.finished = page.next_cursor === null || page.items.length === 0;
        // On the last page the loaded rows are the truth, whatever the count said.
        this.total = this.finished ? this.rows.length : Math.max(page.total, this.rows.length);
        this.version += 1;
      }
    } catch (error) {
      if (!this.disposed) this.error = toApiError(error);
    } finally {
      this.loading = false;
    }
  }
}
