//! Reading payments for people: CSV export of a filter and the dashboard's totals.

use crate::sync::blocking;
use crate::workspace::Workspace;
use crate::{Result, errors};
use chrono::{Datelike, NaiveDate};
use std::path::Path;
use switchboard_core::money::decimal_string;
use switchboard_core::views::{DashboardView, PaymentFilter};
use switchboard_store::totals::{self, Bucket};
use switchboard_store::{StoreError, payments};

/// The CSV columns, in order. Amounts are exact decimals in the payment's currency.
const CSV_HEADER: [&str; 15] = [
    "created_at",
    "provider",
    "connection",
    "payment_id",
    "status",
    "currency",
    "amount",
    "fee",
    "net",
    "refunded",
    "method",
    "customer",
    "customer_email",
    "description",
    "switchboard_id",
];

/// The longest range the dashboard sums by day; longer ranges are summed by month.
const MAX_DAILY_RANGE_DAYS: i64 = 92;

impl Workspace {
    /// Writes every payment `filter` selects to `path` as CSV (newest first) and returns how
    /// many. The file is written next to its final name and renamed, so a failure (a full
    /// disk) never leaves a half-written export under the name the user chose.
    pub async fn export_payments_csv(&self, filter: PaymentFilter, path: &Path) -> Result<u64> {
        let path = path.to_path_buf();
        let partial = path.with_extension("csv.partial");
        let written = {
            let partial = partial.clone();
            blocking(&self.store, move |s| {
                let io = |e: std::io::Error| {
                    StoreError::Invalid(format!("cannot write the export: {e}"))
                };
                let file = std::fs::File::create(&partial).map_err(io)?;
                let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(file));
                let csv_err =
                    |e: csv::Error| StoreError::Invalid(format!("cannot write the export: {e}"));
                csv.write_record(CSV_HEADER).map_err(csv_err)?;
                let mut count = 0u64;
                payments::for_each(&s.conn(), &filter, |p| {
                    let amount = |v: Option<i64>| {
                        v.map(|m| decimal_string(m, p.currency_exponent))
                            .unwrap_or_default()
                    };
                    csv.write_record([
                        p.created_at.as_str(),
                        &p.provider,
                        &p.connection,
                        &p.external_id,
                        &p.status,
                        &p.currency,
                        &amount(Some(p.amount_minor)),
                        &amount(p.fee_minor),
                        &amount(p.net_minor),
                        &amount(Some(p.refunded_minor)),
                        p.method.as_deref().unwrap_or(""),
                        p.customer.as_deref().unwrap_or(""),
                        p.customer_email.as_deref().unwrap_or(""),
                        p.description.as_deref().unwrap_or(""),
                        &p.id,
                    ])
                    .map_err(csv_err)?;
                    count += 1;
                    Ok(())
                })?;
                let file = csv
                    .into_inner()
                    .map_err(|e| StoreError::Invalid(format!("cannot write the export: {e}")))?;
                file.into_inner()
                    .map_err(|e| io(e.into_error()))?
                    .sync_all()
                    .map_err(io)?;
                Ok(count)
            })
            .await
        };
        match written {
            Ok(count) => {
                std::fs::rename(&partial, &path).map_err(|e| {
                    errors::internal(format!("cannot save the export as {}: {e}", path.display()))
                })?;
                Ok(count)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }

    /// Totals for the days `from` to `to` (both `YYYY-MM-DD`, UTC, `to` included): per
    /// provider, per currency and as a series (by day up to three months, else by month).
    pub async fn dashboard(&self, from: &str, to: &str) -> Result<DashboardView> {
        let day = |text: &str, what: &str| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                errors::invalid(format!(
                    "`{text}` is not a {what} date; write it like 2026-12-31"
                ))
            })
        };
        let (first, last) = (day(from, "start")?, day(to, "end")?);
        if last < first {
            return Err(errors::invalid(format!(
                "The range ends ({to}) before it starts ({from})."
            )));
        }
        let after = last.succ_opt().unwrap_or(last);
        let unix = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
        };
        let (start, end) = (unix(first), unix(after));
        let bucket = if (after - first).num_days() <= MAX_DAILY_RANGE_DAYS {
            Bucket::Day
        } else {
            Bucket::Month
        };
        let (by_provider, by_currency, series) = blocking(&self.store, move |s| {
            let conn = s.conn();
            Ok((
                totals::by_provider(&conn, start, end)?,
                totals::by_currency(&conn, start, end)?,
                totals::series(&conn, start, end, bucket)?,
            ))
        })
        .await?;
        Ok(DashboardView {
            from: first.to_string(),
            to: after.to_string(),
            bucket: bucket.as_str().to_string(),
            by_provider,
            by_currency,
            series,
        })
    }
}

/// The calendar month that holds `day`: its first day and last day.
pub fn month_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (first, next.pred_opt().unwrap_or(first))
}
