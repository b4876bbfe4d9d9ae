//! Reading payments for people: a payment's detail and timeline, payouts and their
//! reconciliation, subscriptions, CSV export of a filter, and the dashboard's totals.

use crate::sync::blocking;
use crate::workspace::Workspace;
use crate::{Result, errors};
use chrono::{Datelike, NaiveDate};
use std::path::Path;
use switchboard_core::catalogue::dashboards;
use switchboard_core::money::decimal_string;
use switchboard_core::views::{
    DashboardView, DisputeView, PaymentDetail, PaymentFilter, PaymentView, PayoutDetail,
    PayoutPage, PayoutView, RefundView, SettlementView, SubscriptionView, TimelineEntry,
};
use switchboard_store::totals::{self, Bucket};
use switchboard_store::{
    StoreError, balance_transactions, connections, disputes, payments, payouts, refunds,
    subscriptions,
};

/// The CSV columns, in order. Amounts are exact decimals in the payment's currency, except
/// `settlement_amount`: what a converted payment became, in `settlement_currency` (empty when
/// it settled in its own currency), at the provider's `exchange_rate` when it states one.
/// Columns are only ever added at the end, so spreadsheets reading by position keep working.
const CSV_HEADER: [&str; 18] = [
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
    "settlement_amount",
    "settlement_currency",
    "exchange_rate",
];

/// The longest range the dashboard sums by day; longer ranges are summed by month.
const MAX_DAILY_RANGE_DAYS: i64 = 92;

impl Workspace {
    /// Writes every payment `filter` selects to `path` as CSV (newest first) and returns how
    /// many. The file is written next to its final name and renamed, so a failure (a full
    /// disk) never leaves a half-written export under the name the user chose.
    pub async fn export_payments_csv(&self, filter: PaymentFilter, path: &Path) -> Result<u64> {
        let filter = self.resolve_filter(filter).await?;
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
                    let settled = p.settled_as.as_ref();
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
                        &settled
                            .map(|s| decimal_string(s.amount_minor, s.currency_exponent))
                            .unwrap_or_default(),
                        settled.map_or("", |s| s.currency.as_str()),
                        settled
                            .and_then(|s| s.exchange_rate.as_deref())
                            .unwrap_or(""),
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

impl Workspace {
    /// One payment by our id: refunds, settlement, disputes, payout, timeline, raw JSON.
    pub async fn get_payment(&self, id: &str) -> Result<PaymentDetail> {
        let id = id.to_string();
        blocking(&self.store, move |s| {
            let conn = s.conn();
            let (payment, raw, bt) = payments::get(&conn, &id)?;
            let (conn_id, ext) = (payment.connection_id.clone(), payment.external_id.clone());
            let refunds = refunds::for_payment(&conn, &conn_id, &ext)?;
            let settlement = match &bt {
                Some(bt) => balance_transactions::get(&conn, &conn_id, bt)?,
                None => None,
            };
            let disputes = disputes::for_payment(&conn, &conn_id, &ext)?;
            let payout = payouts::for_payment(&conn, &conn_id, &ext, bt.as_deref())?;
            let api_base = connections::find(&conn, &conn_id)?.api_base;
            let parsed = serde_json::from_str::<serde_json::Value>(&raw).ok();
            let test_mode = parsed
                .as_ref()
                .and_then(|v| v.get("livemode"))
                .and_then(|v| v.as_bool())
                == Some(false)
                || api_base.contains("sandbox")
                || api_base.contains("127.0.0.1");
            let dashboard_url = dashboards::payment_url(&payment.provider, &ext, test_mode);
            let timeline = timeline(
                &payment,
                &refunds,
                settlement.as_ref(),
                &disputes,
                payout.as_ref(),
            );
            let raw_json = parsed
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or(raw);
            Ok(PaymentDetail {
                payment,
                refunds,
                settlement,
                disputes,
                payout,
                timeline,
                dashboard_url,
                raw_json,
            })
        })
        .await
    }

    /// Payouts newest first (one connection, by name or id, or all), with reconciliation.
    pub async fn list_payouts(
        &self,
        connection: Option<&str>,
        limit: usize,
        after: Option<&str>,
    ) -> Result<PayoutPage> {
        let (connection, after) = (connection.map(str::to_string), after.map(str::to_string));
        let limit = limit.clamp(1, 1_000);
        blocking(&self.store, move |s| {
            payouts::page(&s.conn(), connection.as_deref(), limit, after.as_deref())
        })
        .await
    }

    /// One payout (our id or the provider's) with every entry.
    pub async fn get_payout(&self, id: &str) -> Result<PayoutDetail> {
        let id = id.to_string();
        blocking(&self.store, move |s| {
            let conn = s.conn();
            let (payout, raw) = payouts::get(&conn, &id)?;
            let entries = payouts::entries(&conn, &payout.connection_id, &payout.external_id)?;
            let raw_json = serde_json::from_str::<serde_json::Value>(&raw)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or(raw);
            Ok(PayoutDetail {
                payout,
                entries,
                raw_json,
            })
        })
        .await
    }

    /// Subscriptions newest first (one connection, by name or id, or all).
    pub async fn list_subscriptions(
        &self,
        connection: Option<&str>,
    ) -> Result<Vec<SubscriptionView>> {
        let connection = connection.map(str::to_string);
        blocking(&self.store, move |s| {
            subscriptions::list(&s.conn(), connection.as_deref(), 1_000)
        })
        .await
    }
}

/// What happened to a payment, oldest first, from what is stored.
fn timeline(
    p: &PaymentView,
    refunds: &[RefundView],
    settlement: Option<&SettlementView>,
    disputes: &[DisputeView],
    payout: Option<&PayoutView>,
) -> Vec<TimelineEntry> {
    let money = |minor: i64, exponent: u8, currency: &str| {
        format!("{} {currency}", decimal_string(minor, exponent))
    };
    let amount = money(p.amount_minor, p.currency_exponent, &p.currency);
    let mut entries = vec![TimelineEntry {
        at: p.created_at.clone(),
        kind: "created".into(),
        label: format!("Payment of {amount} created"),
    }];
    match p.status.as_str() {
        "succeeded" => entries.push(TimelineEntry {
            at: p.created_at.clone(),
            kind: "captured".into(),
            label: format!("{amount} captured"),
        }),
        "failed" => entries.push(TimelineEntry {
            at: p.created_at.clone(),
            kind: "failed".into(),
            label: "Payment failed".into(),
        }),
        _ => {}
    }
    for r in refunds {
        let pending = r.status == "pending";
        entries.push(TimelineEntry {
            at: r.created_at.clone(),
            kind: if pending {
                "refund_pending"
            } else {
                "refunded"
            }
            .into(),
            label: format!(
                "{} {}{}{}",
                if pending {
                    "Refund pending:"
                } else {
                    "Refunded"
                },
                money(r.amount_minor, r.currency_exponent, &r.currency),
                r.reason
                    .as_deref()
                    .map(|why| format!(" ({})", why.replace('_', " ")))
                    .unwrap_or_default(),
                if matches!(r.status.as_str(), "failed" | "canceled") {
                    format!(" — {}", r.status)
                } else {
                    String::new()
                }
            ),
        });
    }
    for d in disputes {
        entries.push(TimelineEntry {
            at: d.created_at.clone(),
            kind: "disputed".into(),
            label: format!(
                "Disputed: {} ({})",
                money(d.amount_minor, d.currency_exponent, &d.currency),
                d.status.replace('_', " ")
            ),
        });
    }
    if let Some(s) = settlement
        && let Some(at) = &s.available_on
    {
        entries.push(TimelineEntry {
            at: at.clone(),
            kind: "available".into(),
            label: format!(
                "{} available after fees",
                money(s.net_minor, s.currency_exponent, &s.currency)
            ),
        });
    }
    if let Some(po) = payout {
        entries.push(TimelineEntry {
            at: po
                .arrival_date
                .clone()
                .unwrap_or_else(|| po.created_at.clone()),
            kind: "paid_out".into(),
            label: format!(
                "Paid out in {} ({})",
                po.external_id,
                po.status.replace('_', " ")
            ),
        });
    }
    // RFC 3339 UTC strings of one format sort in time order; the sort is stable, so events
    // of the same second keep their logical order.
    entries.sort_by(|a, b| a.at.cmp(&b.at));
    entries
}
