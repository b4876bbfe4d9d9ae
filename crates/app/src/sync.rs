//! The sync engine for one connection: streams run in order, page by page. Each page's rows,
//! the run's counts and the stream's checkpoint commit in ONE transaction, so a process killed
//! at any instant resumes after its last committed page, with no duplicate (upserts are keyed
//! by connection + external id) and no gap (the checkpoint never passes an uncommitted page).

use crate::{errors, locks};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use switchboard_core::views::{SyncProgress, SyncRunView};
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::http::{RequestRecord, RequestSink};
use switchboard_providers::{Page, PageRequest, ProviderError, PullPayments, Record};
use switchboard_store::raw::Encoded;
use switchboard_store::request_log;
use switchboard_store::rusqlite::TransactionBehavior;
use switchboard_store::sync_runs::{Counts, Finish};
use switchboard_store::{
    Store, balance_transactions, cursors, customers, disputes, payments, payouts, refunds,
    subscriptions, sync_leases, sync_runs,
};

/// How far before the newest object seen an incremental run starts again, unless the adapter
/// says otherwise for a stream, so objects that become visible late (created earlier than they
/// appear in lists) are not missed.
pub const LOOKBACK_SECS: i64 = switchboard_providers::DEFAULT_LOOKBACK_SECS;

/// Retry policy for one page (the full resilient HTTP layer arrives with the sync-engine issue).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Exchanges the adapter reports during a run, tagged with the attempt the engine is on; they
/// are written to the request log in the same transactions as the pages.
#[derive(Default)]
pub(crate) struct RequestBuffer {
    rows: std::sync::Mutex<Vec<RequestRecord>>,
    attempt: AtomicU32,
}

impl RequestBuffer {
    pub(crate) fn sink(self: &Arc<Self>) -> RequestSink {
        let me = self.clone();
        Arc::new(move |mut r: RequestRecord| {
            r.attempt = me.attempt.load(Ordering::SeqCst);
            me.rows.lock().unwrap_or_else(|e| e.into_inner()).push(r);
        })
    }

    fn take(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *self.rows.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

pub(crate) struct StreamJob<'a> {
    pub store: &'a Arc<Store>,
    pub requests: &'a Arc<RequestBuffer>,
    /// The workspace folder (holds the stream locks).
    pub folder: &'a std::path::Path,
    /// This workspace instance's lease holder id.
    pub holder: &'a str,
    pub connection_name: &'a str,
    pub adapter: &'a dyn PullPayments,
    pub connection_id: &'a str,
    pub stream: &'a str,
    pub trigger: &'a str,
    pub retry: RetryPolicy,
    pub progress: &'a (dyn Fn(SyncProgress) + Send + Sync),
    /// Asked between pages; `true` stops the run as `cancelled`, checkpoint kept.
    pub cancelled: &'a (dyn Fn() -> bool + Send + Sync),
}

/// Runs one stream to the end (or to an error) and returns its run row.
pub(crate) async fn run_stream(job: StreamJob<'_>) -> Result<SyncRunView, CommandError> {
    let store = job.store.clone();
    let (conn_id, stream, trigger) = (
        job.connection_id.to_string(),
        job.stream.to_string(),
        job.trigger.to_string(),
    );
    let holder = job.holder.to_string();
    // The stream's OS lock first: held until this function returns, released by the OS if the
    // process dies, so a crash never blocks the next run.
    let _lock = match locks::try_lock(job.folder, &conn_id, &stream) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            let (c, st) = (conn_id.clone(), stream.clone());
            let lease = blocking(&store, move |s| sync_leases::get(&s.conn(), &c, &st)).await?;
            let by = lease.map_or_else(String::new, |l| format!(" (process {})", l.pid));
            return Err(CommandError::new(
                ErrorCode::Conflict,
                format!(
                    "{} ({stream}) is already syncing in another Switchboard window or command{by}. \
                     Try again when it finishes.",
                    job.connection_name
                ),
            )
            .retryable(true));
        }
        Err(e) => {
            return Err(errors::internal(format!(
                "cannot take the sync lock in {}: {e}",
                job.folder.display()
            )));
        }
    };
    // Start (or resume) under one transaction: the checkpoint of an interrupted run is kept.
    let lookback = job.adapter.lookback_secs(&stream);
    let (run_id, mut cursor) = blocking(&store, {
        let (conn_id, stream, holder) = (conn_id.clone(), stream.clone(), holder.clone());
        move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            sync_leases::record(&tx, &conn_id, &stream, &holder)?;
            // Holding the lock, any run of this stream still marked running is orphaned.
            sync_runs::mark_interrupted(&tx, &conn_id, &stream)?;
            let mut cursor = cursors::get(&tx, &conn_id, &stream)?;
            if cursor.run_floor.is_none() {
                cursor.run_floor = Some(cursor.high_water.map_or(0, |h| (h - lookback).max(0)));
                cursor.run_after = None;
                cursor.run_max_created = None;
                cursors::put(&tx, &conn_id, &stream, &cursor)?;
            }
            let run_id = sync_runs::start(&tx, &conn_id, &stream, &trigger)?;
            tx.commit()?;
            Ok((run_id, cursor))
        }
    })
    .await?;

    let mut pages: i64 = 0;
    let mut warnings: Vec<String> = Vec::new();
    let mut rejected: Vec<String> = Vec::new();
    let mut request_ids: Vec<String> = Vec::new();
    let mut cancelled = false;
    // Pipelined group commit: the next page is fetched while the previous pages commit (a
    // request needs only the last page's id), and the pages that arrived meanwhile commit
    // together as soon as that commit is done, so the provider's latency and the database's
    // write time overlap, and a slow disk gets fewer, larger transactions (random index pages
    // are written once per transaction, not once per page). Each transaction holds whole pages
    // and the checkpoint after its last one; a fetched page that is never committed (a kill, a
    // cancel) is simply fetched again by the next run.
    let created_gte = cursor.run_floor.filter(|f| *f > 0);
    let request_after = |after: Option<String>| PageRequest {
        created_gte,
        starting_after: after,
    };
    let mut group = PageGroup::default();
    let mut in_flight: Option<InFlight> = None;
    let mut committed = PageGroup::default();
    let mut request = Some(request_after(cursor.run_after.clone()));
    let failure: Option<ProviderError> = loop {
        let Some(this) = request.take() else {
            break None;
        };
        if (job.cancelled)() {
            cancelled = true;
            break None;
        }
        let page =
            match fetch_with_retry(job.adapter, &stream, &this, job.retry, job.requests).await {
                Ok(page) => page,
                Err(e) => break Some(e),
            };
        pages += 1;
        if let Some(id) = &page.request_id {
            request_ids.push(id.clone());
        }
        warnings.extend(page.warnings.iter().cloned());
        rejected.extend(page.rejected.iter().map(|r| {
            format!(
                "{} ({})",
                r.external_id.as_deref().unwrap_or("object without id"),
                r.reason
            )
        }));
        request = page.has_more.then(|| request_after(page.last_id.clone()));
        // Fails only as the database's work does (below): the run stays resumable.
        group.add(page)?;
        let previous_done = in_flight.as_ref().is_none_or(|f| f.task.is_finished());
        if previous_done || group.pages >= MAX_GROUP_PAGES {
            if let Some(done) = in_flight.take() {
                cursor = done.wait(&job, &mut committed, false).await?;
            }
            in_flight = Some(InFlight::start(&job, &store, &run_id, &cursor, &mut group));
        }
    };
    // What was fetched is kept: the last group commits before the run ends, whatever ended it.
    let reached_end = request.is_none() && failure.is_none() && !cancelled;
    if let Some(done) = in_flight.take() {
        let last = reached_end && group.pages == 0;
        cursor = done.wait(&job, &mut committed, last).await?;
    }
    if group.pages > 0 {
        cursor = InFlight::start(&job, &store, &run_id, &cursor, &mut group)
            .wait(&job, &mut committed, reached_end)
            .await?;
    }

    let (status, code, message) = match (&failure, rejected.is_empty()) {
        _ if cancelled => (
            "cancelled",
            Some(ErrorCode::Cancelled.as_str().to_string()),
            Some("Cancelled; the next sync continues from the last saved page.".to_string()),
        ),
        (None, true) => ("succeeded", None, None),
        (None, false) => (
            "partial",
            Some(ErrorCode::BadResponse.as_str().to_string()),
            Some(format!(
                "{} object(s) could not be read and were skipped: {}",
                rejected.len(),
                rejected.join("; ")
            )),
        ),
        (Some(e), _) => (
            if pages > 0 { "partial" } else { "failed" },
            Some(e.code().as_str().to_string()),
            Some(CommandError::from(e.clone()).message),
        ),
    };
    for w in &warnings {
        tracing::warn!(stream = %stream, "{w}");
    }
    let exchanges = job.requests.take();
    let finished = blocking(&store, {
        let (conn_id, stream, run_id) = (conn_id.clone(), stream.clone(), run_id.clone());
        move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            sync_leases::release(&tx, &conn_id, &stream, &holder)?;
            request_log::append(&tx, &conn_id, &exchanges)?;
            request_log::prune(&tx, &conn_id, chrono::Utc::now())?;
            if failure.is_none() && !cancelled {
                // The run reached the end: its newest object becomes the high-water mark and
                // the checkpoint is cleared.
                let high_water = match (cursor.high_water, cursor.run_max_created) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                cursors::put(
                    &tx,
                    &conn_id,
                    &stream,
                    &cursors::Cursor {
                        high_water,
                        ..Default::default()
                    },
                )?;
            }
            sync_runs::finish(
                &tx,
                &run_id,
                &Finish {
                    status,
                    error_code: code.as_deref(),
                    error_message: message.as_deref(),
                    warnings: &warnings,
                    request_ids: &request_ids,
                },
            )?;
            let view = sync_runs::get(&tx, &run_id)?;
            tx.commit()?;
            Ok(view)
        }
    })
    .await?;
    Ok(finished)
}

async fn fetch_with_retry(
    adapter: &dyn PullPayments,
    stream: &str,
    request: &PageRequest,
    retry: RetryPolicy,
    requests: &RequestBuffer,
) -> Result<Page, ProviderError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        requests.attempt.store(attempt, Ordering::SeqCst);
        match adapter.fetch_page(stream, request).await {
            Ok(page) => return Ok(page),
            // A provider asking for more than a minute's pause ends the run (`partial`, resumable)
            // rather than holding it open.
            Err(e)
                if e.is_transient()
                    && attempt < retry.attempts
                    && e.retry_after_secs.is_none_or(|s| s <= MAX_RETRY_AFTER_SECS) =>
            {
                let wait = retry_wait(retry, attempt, e.retry_after_secs, rand::random());
                tracing::info!(
                    stream,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying page: {e}"
                );
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Which run a page belongs to.
struct PageOwner {
    conn_id: String,
    stream: String,
    run_id: String,
}

/// At most this many fetched pages wait for the commit in progress before fetching pauses.
const MAX_GROUP_PAGES: usize = 20;

/// Pages fetched and not yet committed, merged into one page's shape.
#[derive(Default)]
struct PageGroup {
    merged: Option<Page>,
    /// The pages' records, split by kind and encoded as each page arrives, so that work
    /// overlaps the commit in progress.
    records: RecordsByKind,
    pages: usize,
    fetched: usize,
}

impl PageGroup {
    fn add(&mut self, mut page: Page) -> Result<(), CommandError> {
        for record in std::mem::take(&mut page.records) {
            self.records.add(record).map_err(errors::store)?;
        }
        self.pages += 1;
        self.fetched += page.fetched;
        self.merged = Some(match self.merged.take() {
            None => page,
            Some(mut group) => {
                group.rejected.extend(page.rejected);
                group.fetched += page.fetched;
                group.last_id = page.last_id.or(group.last_id);
                group.max_created = group.max_created.max(page.max_created);
                group
            }
        });
        Ok(())
    }
}

/// A group of pages committing on the blocking pool.
struct InFlight {
    task: tokio::task::JoinHandle<Result<cursors::Cursor, CommandError>>,
    pages: usize,
    fetched: usize,
}

impl InFlight {
    /// Commits `group` (emptying it) with the stream's checkpoint after its last page.
    fn start(
        job: &StreamJob<'_>,
        store: &Arc<Store>,
        run_id: &str,
        cursor: &cursors::Cursor,
        group: &mut PageGroup,
    ) -> InFlight {
        let taken = std::mem::take(group);
        let owner = PageOwner {
            conn_id: job.connection_id.to_string(),
            stream: job.stream.to_string(),
            run_id: run_id.to_string(),
        };
        let (store, cursor, exchanges) = (store.clone(), cursor.clone(), job.requests.take());
        let page = taken.merged.unwrap_or_default();
        let records = taken.records;
        InFlight {
            task: tokio::spawn(async move {
                commit_page(&store, owner, cursor, page, records, exchanges).await
            }),
            pages: taken.pages,
            fetched: taken.fetched,
        }
    }

    /// Waits for the commit, then reports the pages committed so far (progress only ever
    /// counts committed pages).
    async fn wait(
        self,
        job: &StreamJob<'_>,
        committed: &mut PageGroup,
        last: bool,
    ) -> Result<cursors::Cursor, CommandError> {
        let cursor = self
            .task
            .await
            .map_err(|e| errors::internal(format!("database task failed: {e}")))??;
        committed.pages += self.pages;
        committed.fetched += self.fetched;
        (job.progress)(SyncProgress {
            connection_id: job.connection_id.to_string(),
            stream: job.stream.to_string(),
            pages: committed.pages as i64,
            fetched: committed.fetched as i64,
            done: last,
        });
        Ok(cursor)
    }
}

/// The longest `Retry-After` a run waits out in place.
const MAX_RETRY_AFTER_SECS: u64 = 60;

/// How long to wait before try `attempt + 1`: exponential backoff with full jitter (a uniform
/// draw in `[0, base · 2^(attempt-1)]`, so many clients retrying at once spread out), capped at
/// `max_delay`; a provider's `Retry-After` is a floor, as it is the provider's own word.
pub(crate) fn retry_wait(
    retry: RetryPolicy,
    attempt: u32,
    retry_after_secs: Option<u64>,
    unit_draw: f64,
) -> Duration {
    let ceiling = retry
        .base_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(retry.max_delay);
    let jittered = ceiling.mul_f64(unit_draw.clamp(0.0, 1.0));
    match retry_after_secs {
        Some(secs) => jittered
            .max(Duration::from_secs(secs))
            .min(retry.max_delay.max(Duration::from_secs(secs))),
        None => jittered,
    }
}

/// Stores one page and moves the checkpoint past the page, atomically.
async fn commit_page(
    store: &Arc<Store>,
    owner: PageOwner,
    mut cursor: cursors::Cursor,
    page: Page,
    kinds: RecordsByKind,
    exchanges: Vec<RequestRecord>,
) -> Result<cursors::Cursor, CommandError> {
    let PageOwner {
        conn_id,
        stream,
        run_id,
    } = owner;
    blocking(store, move |s| {
        // One check that the connection exists instead of a foreign key check per row: the
        // upserts then need no statement journal (`switchboard_store::upsert`).
        let cursor = s.write_for_connection(&conn_id, |tx| {
            let mut counts = Counts {
                fetched: page.fetched as i64,
                failed: page.rejected.len() as i64,
                ..Counts::default()
            };
            // Many objects per statement (see `switchboard_store::upsert`): a stream's pages hold
            // one kind of object, so this is one run of statements per group.
            for done in kinds.upsert(tx, &conn_id)? {
                counts.inserted += done.inserted as i64;
                counts.updated += done.updated as i64;
                counts.skipped += done.unchanged as i64;
            }
            sync_runs::add_counts(tx, &run_id, counts)?;
            request_log::append(tx, &conn_id, &exchanges)?;
            if page.last_id.is_some() {
                cursor.run_after = page.last_id.clone();
            }
            if let Some(max) = page.max_created {
                cursor.run_max_created = Some(cursor.run_max_created.map_or(max, |m| m.max(max)));
            }
            cursors::put(tx, &conn_id, &stream, &cursor)?;
            Ok(cursor)
        })?;
        // The records go back to be freed by the thread that made them, not this one (see
        // `Encoded::new`).
        Ok((cursor, kinds))
    })
    .await
    .map(|(cursor, _records)| cursor)
}

/// A group's records split by kind, so each kind is upserted many rows per statement. Each
/// carries its raw JSON encoded already ([`Encoded`]): compressed as each page arrives, while
/// the database commits the previous group, rather than on the database's thread.
#[derive(Default)]
struct RecordsByKind {
    payments: Vec<Encoded<switchboard_core::records::PaymentRecord>>,
    refunds: Vec<Encoded<switchboard_core::records::RefundRecord>>,
    balance_transactions: Vec<Encoded<switchboard_core::records::BalanceTransactionRecord>>,
    disputes: Vec<Encoded<switchboard_core::records::DisputeRecord>>,
    payouts: Vec<Encoded<switchboard_core::records::PayoutRecord>>,
    payout_entries: Vec<Encoded<switchboard_core::records::PayoutEntryRecord>>,
    customers: Vec<Encoded<switchboard_core::records::CustomerRecord>>,
    subscriptions: Vec<Encoded<switchboard_core::records::SubscriptionRecord>>,
}

impl RecordsByKind {
    fn add(&mut self, record: Record) -> switchboard_store::Result<()> {
        match record {
            Record::Payment(p) => self.payments.push(Encoded::new(p)?),
            Record::Refund(r) => self.refunds.push(Encoded::new(r)?),
            Record::BalanceTransaction(b) => self.balance_transactions.push(Encoded::new(b)?),
            Record::Dispute(d) => self.disputes.push(Encoded::new(d)?),
            Record::Payout(p) => self.payouts.push(Encoded::new(p)?),
            Record::PayoutEntry(e) => self.payout_entries.push(Encoded::new(e)?),
            Record::Customer(c) => self.customers.push(Encoded::new(c)?),
            Record::Subscription(s) => self.subscriptions.push(Encoded::new(s)?),
        }
        Ok(())
    }

    /// Upserts every kind (an empty kind costs nothing) and returns what each did.
    fn upsert(
        &self,
        tx: &switchboard_store::rusqlite::Connection,
        conn_id: &str,
    ) -> switchboard_store::Result<[switchboard_store::UpsertCounts; 8]> {
        let counts = [
            payments::upsert_many(tx, conn_id, &self.payments)?,
            refunds::upsert_many(tx, conn_id, &self.refunds)?,
            balance_transactions::upsert_many(tx, conn_id, &self.balance_transactions)?,
            disputes::upsert_many(tx, conn_id, &self.disputes)?,
            payouts::upsert_many(tx, conn_id, &self.payouts)?,
            payouts::upsert_entries(tx, conn_id, &self.payout_entries)?,
            customers::upsert_many(tx, conn_id, &self.customers)?,
            subscriptions::upsert_many(tx, conn_id, &self.subscriptions)?,
        ];
        // PayPal states no refunded amount: its refunds say it. Both sides, as a refund and its
        // payment may come in different pages (and a payment's update rewrites the column).
        let refunded: Vec<&str> = self
            .refunds
            .iter()
            .filter_map(|r| r.record.payment_external_id.as_deref())
            .chain(self.payments.iter().map(|p| p.record.external_id.as_str()))
            .collect();
        payments::raise_refunded_from_refunds(tx, conn_id, &refunded)?;
        Ok(counts)
    }
}

/// Runs database work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> switchboard_store::Result<T> + Send + 'static,
) -> Result<T, CommandError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| errors::internal(format!("database task failed: {e}")))?
        .map_err(errors::store)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
    };

    #[test]
    fn backoff_doubles_with_full_jitter_and_a_cap() {
        assert_eq!(retry_wait(POLICY, 1, None, 1.0), Duration::from_millis(100));
        assert_eq!(retry_wait(POLICY, 3, None, 1.0), Duration::from_millis(400));
        assert_eq!(retry_wait(POLICY, 3, None, 0.5), Duration::from_millis(200));
        assert_eq!(retry_wait(POLICY, 3, None, 0.0), Duration::ZERO);
        assert_eq!(retry_wait(POLICY, 10, None, 1.0), Duration::from_secs(1));
        assert_eq!(retry_wait(POLICY, 40, None, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_is_a_floor() {
        assert_eq!(retry_wait(POLICY, 1, Some(1), 0.1), Duration::from_secs(1));
        // The provider's word wins over our cap.
        assert_eq!(retry_wait(POLICY, 1, Some(3), 0.1), Duration::from_secs(3));
    }
}
