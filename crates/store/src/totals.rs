//! The dashboard's totals, read from `daily_totals` (migration 0013), kept exact in the same
//! transactions as the payments, refunds, fees and payouts they sum. A year is a few hundred
//! rows per connection and currency, however many payments there are.
//!
//! Triggers keep them through updates and deletes, and through inserts of refunds and payouts.
//! Inserted payments and balance transactions (nearly every row an import writes) are summed
//! per statement here instead ([`Shares`]): a few `daily_totals` upserts per 100 rows rather
//! than a trigger program per row (migration 0016).

use crate::Result;
use rusqlite::Connection;
use std::collections::HashMap;
use switchboard_core::views::{MoneyTotals, TotalsRow};

/// The period a series is bucketed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Month,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Month => "month",
        }
    }

    /// SQL giving a `daily_totals.day`'s bucket as `YYYY-MM-DD`.
    fn period_sql(self) -> &'static str {
        match self {
            Bucket::Day => "strftime('%Y-%m-%d', t.day, 'unixepoch')",
            Bucket::Month => "strftime('%Y-%m-01', t.day, 'unixepoch')",
        }
    }
}

/// What rows just inserted add to each (UTC day, currency).
#[derive(Default)]
pub(crate) struct Shares<'a> {
    by_day: HashMap<(i64, &'a str), Share>,
}

#[derive(Default)]
struct Share {
    currency_exponent: u8,
    payments: i64,
    gross_minor: i64,
    fee_minor: i64,
}

impl<'a> Shares<'a> {
    /// Adds one row's share on the day of `created` (unix seconds). The same day arithmetic as
    /// the triggers' `created - created % 86400`.
    pub(crate) fn add(
        &mut self,
        created: i64,
        currency: &'a str,
        currency_exponent: u8,
        payments: i64,
        gross_minor: i64,
        fee_minor: i64,
    ) {
        let share = self
            .by_day
            .entry((created - created % 86_400, currency))
            .or_insert_with(|| Share {
                currency_exponent,
                ..Share::default()
            });
        share.payments += payments;
        share.gross_minor += gross_minor;
        share.fee_minor += fee_minor;
    }

    /// Adds the shares to `daily_totals`, in the caller's transaction.
    pub(crate) fn apply(self, conn: &Connection, connection_id: &str) -> Result<()> {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO daily_totals
               (connection_id, day, currency, currency_exponent, payments, gross_minor, fee_minor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (connection_id, day, currency) DO UPDATE SET
               payments = payments + excluded.payments,
               gross_minor = gross_minor + excluded.gross_minor,
               fee_minor = fee_minor + excluded.fee_minor",
        )?;
        for ((day, currency), share) in self.by_day {
            stmt.execute(rusqlite::params![
                connection_id,
                day,
                currency,
                share.currency_exponent,
                share.payments,
                share.gross_minor,
                share.fee_minor
            ])?;
        }
        Ok(())
    }
}

const SUMS: &str = "SUM(t.payments), SUM(t.gross_minor), SUM(t.fee_minor), SUM(t.refunds),
    SUM(t.refunded_minor), SUM(t.payouts), SUM(t.payout_minor)";

fn totals(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<MoneyTotals> {
    let gross: i64 = r.get(first + 1)?;
    let fee: i64 = r.get(first + 2)?;
    let refunded: i64 = r.get(first + 4)?;
    Ok(MoneyTotals {
        payments: r.get(first)?,
        gross_minor: gross,
        fee_minor: fee,
        refunds: r.get(first + 3)?,
        refunded_minor: refunded,
        net_minor: gross - fee - refunded,
        payouts: r.get(first + 5)?,
        payout_minor: r.get(first + 6)?,
    })
}

/// Per provider and currency, days `[from, to)` (unix seconds of 00:00 UTC), largest gross first.
pub fn by_provider(conn: &Connection, from: i64, to: i64) -> Result<Vec<TotalsRow>> {
    let sql = format!(
        "SELECT c.provider, t.currency, MAX(t.currency_exponent), {SUMS}
         FROM daily_totals t JOIN connections c ON c.id = t.connection_id
         WHERE t.day >= ?1 AND t.day < ?2
         GROUP BY c.provider, t.currency
         ORDER BY SUM(t.gross_minor) DESC, c.provider, t.currency"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([from, to], |r| {
            Ok(TotalsRow {
                provider: r.get(0)?,
                period: String::new(),
                currency: r.get(1)?,
                currency_exponent: r.get(2)?,
                totals: totals(r, 3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Per currency (all providers), days `[from, to)`, largest gross first.
pub fn by_currency(conn: &Connection, from: i64, to: i64) -> Result<Vec<TotalsRow>> {
    let sql = format!(
        "SELECT t.currency, MAX(t.currency_exponent), {SUMS}
         FROM daily_totals t
         WHERE t.day >= ?1 AND t.day < ?2
         GROUP BY t.currency
         ORDER BY SUM(t.gross_minor) DESC, t.currency"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([from, to], |r| {
            Ok(TotalsRow {
                provider: String::new(),
                period: String::new(),
                currency: r.get(0)?,
                currency_exponent: r.get(1)?,
                totals: totals(r, 2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Per period and currency (all providers), days `[from, to)`, oldest first.
pub fn series(conn: &Connection, from: i64, to: i64, bucket: Bucket) -> Result<Vec<TotalsRow>> {
    let period = bucket.period_sql();
    let sql = format!(
        "SELECT {period} AS period, t.currency, MAX(t.currency_exponent), {SUMS}
         FROM daily_totals t
         WHERE t.day >= ?1 AND t.day < ?2
         GROUP BY period, t.currency
         ORDER BY period, t.currency"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([from, to], |r| {
            Ok(TotalsRow {
                provider: String::new(),
                period: r.get(0)?,
                currency: r.get(1)?,
                currency_exponent: r.get(2)?,
                totals: totals(r, 3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::records::{
        BalanceTransactionRecord, PaymentRecord, PayoutRecord, RefundRecord,
    };

    /// The same totals computed straight from the rows, to check the triggers against.
    fn recomputed(conn: &Connection, from: i64, to: i64) -> Vec<(String, String, MoneyTotals)> {
        let mut stmt = conn
            .prepare(
                "WITH moves AS (
                   SELECT connection_id, currency, created AS at, 1 AS payments, amount_minor AS gross,
                          coalesce(fee_minor, 0) AS fee, 0 AS refunds, 0 AS refunded, 0 AS payouts, 0 AS paid
                   FROM payments WHERE status = 'succeeded'
                   UNION ALL
                   SELECT connection_id, currency, created, 0, 0, fee_minor, 0, 0, 0, 0
                   FROM balance_transactions WHERE type IN ('charge', 'payment')
                   UNION ALL
                   SELECT connection_id, currency, created, 0, 0, 0, 1, amount_minor, 0, 0
                   FROM refunds WHERE status IN ('succeeded', 'pending')
                   UNION ALL
                   SELECT connection_id, currency, coalesce(arrival_date, created), 0, 0, 0, 0, 0, 1, amount_minor
                   FROM payouts WHERE status NOT IN ('failed', 'canceled'))
                 SELECT c.provider, m.currency, SUM(payments), SUM(gross), SUM(fee), SUM(refunds),
                        SUM(refunded), SUM(payouts), SUM(paid)
                 FROM moves m JOIN connections c ON c.id = m.connection_id
                 WHERE m.at - m.at % 86400 >= ?1 AND m.at - m.at % 86400 < ?2
                 GROUP BY c.provider, m.currency ORDER BY c.provider, m.currency",
            )
            .unwrap();
        stmt.query_map([from, to], |r| {
            let (gross, fee, refunded): (i64, i64, i64) = (r.get(3)?, r.get(4)?, r.get(6)?);
            Ok((
                r.get(0)?,
                r.get(1)?,
                MoneyTotals {
                    payments: r.get(2)?,
                    gross_minor: gross,
                    fee_minor: fee,
                    refunds: r.get(5)?,
                    refunded_minor: refunded,
                    net_minor: gross - fee - refunded,
                    payouts: r.get(7)?,
                    payout_minor: r.get(8)?,
                },
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    fn from_rollup(conn: &Connection, from: i64, to: i64) -> Vec<(String, String, MoneyTotals)> {
        let mut rows: Vec<_> = by_provider(conn, from, to)
            .unwrap()
            .into_iter()
            .map(|r| (r.provider, r.currency, r.totals))
            .collect();
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        rows
    }

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % below
        }
    }

    #[test]
    fn rollups_stay_exact_through_inserts_updates_and_deletes() {
        let store = crate::test_store();
        let conn = store.conn();
        let day0 = 1_767_225_600;
        let mut rng = Lcg(7);
        let currencies = [("EUR", 2u8), ("JPY", 0), ("KWD", 3)];
        let statuses = ["succeeded", "pending", "failed"];
        for round in 0..600u64 {
            let n = rng.next(80);
            let (currency, exponent) = currencies[rng.next(3) as usize];
            let created = day0 + rng.next(20 * 86_400) as i64;
            let raw = format!("{{\"v\":{round}}}");
            match rng.next(5) {
                0 | 1 => {
                    let p = PaymentRecord {
                        external_id: format!("p{n}"),
                        amount_minor: 1 + rng.next(100_000) as i64,
                        refunded_minor: 0,
                        currency: currency.into(),
                        currency_exponent: exponent,
                        status: statuses[rng.next(3) as usize].into(),
                        customer: None,
                        description: None,
                        balance_transaction_external_id: None,
                        created,
                        raw_json: raw,
                        fee_minor: (rng.next(2) == 0).then(|| rng.next(500) as i64),
                        net_minor: None,
                        method: None,
                        customer_email: None,
                        settlement: None,
                    };
                    if rng.next(3) == 0 {
                        // A batch holding the same payment twice, changed in between (two
                        // pages of one group), and another new one.
                        let mut again = p.clone();
                        again.status = statuses[rng.next(3) as usize].into();
                        again.amount_minor += 1;
                        again.raw_json = format!("{{\"v\":{round},\"again\":1}}");
                        let mut other = p.clone();
                        other.external_id = format!("p{}", rng.next(80));
                        crate::payments::upsert_many(&conn, "c1", &[p, again, other]).unwrap();
                    } else {
                        crate::payments::upsert(&conn, "c1", &p).unwrap();
                    }
                }
                2 => {
                    let r = RefundRecord {
                        external_id: format!("r{n}"),
                        payment_external_id: Some(format!("p{n}")),
                        amount_minor: 1 + rng.next(5_000) as i64,
                        currency: currency.into(),
                        currency_exponent: exponent,
                        status: ["succeeded", "pending", "failed", "canceled"]
                            [rng.next(4) as usize]
                            .into(),
                        reason: None,
                        balance_transaction_external_id: None,
                        created,
                        raw_json: raw,
                    };
                    crate::refunds::upsert(&conn, "c1", &r).unwrap();
                }
                3 => {
                    let b = BalanceTransactionRecord {
                        external_id: format!("txn{n}"),
                        source_external_id: None,
                        kind: ["charge", "payment", "refund", "payout"][rng.next(4) as usize]
                            .into(),
                        amount_minor: 1_000,
                        fee_minor: rng.next(300) as i64,
                        net_minor: 700,
                        currency: currency.into(),
                        currency_exponent: exponent,
                        status: "available".into(),
                        available_on: None,
                        payout_external_id: None,
                        fee_lines: Vec::new(),
                        created,
                        raw_json: raw,
                    };
                    let mut again = b.clone();
                    again.fee_minor += 1;
                    again.raw_json = format!("{{\"v\":{round},\"again\":1}}");
                    let batch = if rng.next(3) == 0 {
                        vec![b, again]
                    } else {
                        vec![b]
                    };
                    crate::balance_transactions::upsert_many(&conn, "c1", &batch).unwrap();
                }
                _ => {
                    let p = PayoutRecord {
                        external_id: format!("po{n}"),
                        amount_minor: 1 + rng.next(900_000) as i64,
                        currency: currency.into(),
                        currency_exponent: exponent,
                        status: ["paid", "in_transit", "failed", "canceled", "pending"]
                            [rng.next(5) as usize]
                            .into(),
                        arrival_date: (rng.next(2) == 0).then_some(created + 2 * 86_400),
                        destination: None,
                        created,
                        raw_json: raw,
                    };
                    crate::payouts::upsert_many(&conn, "c1", &[p]).unwrap();
                }
            }
            if round % 97 == 0 {
                let table = ["payments", "refunds", "balance_transactions", "payouts"]
                    [rng.next(4) as usize];
                conn.execute(
                    &format!(
                        "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} LIMIT 3)"
                    ),
                    [],
                )
                .unwrap();
            }
        }
        for (from, to) in [
            (day0, day0 + 30 * 86_400),
            (day0 + 86_400 * 3, day0 + 86_400 * 9),
        ] {
            let expected = recomputed(&conn, from, to);
            assert!(expected.len() >= 3, "the test data covers every currency");
            assert_eq!(from_rollup(&conn, from, to), expected);
        }
        // The series adds up to the same totals.
        let series = series(&conn, day0, day0 + 30 * 86_400, Bucket::Month).unwrap();
        let per_currency = by_currency(&conn, day0, day0 + 30 * 86_400).unwrap();
        for c in &per_currency {
            let gross: i64 = series
                .iter()
                .filter(|s| s.currency == c.currency)
                .map(|s| s.totals.gross_minor)
                .sum();
            assert_eq!(gross, c.totals.gross_minor);
        }
        assert!(series.iter().all(|s| s.period.ends_with("-01")));
    }
}
