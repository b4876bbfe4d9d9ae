//! Payments (Stripe charges, later PayPal captures and Square payments), keyed by
//! (connection, external id). Listing is keyset-paged, newest first, so a deep page costs the
//! same as the first.

use crate::raw::Storable;
use crate::totals::Shares;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, atomically, upsert_rows_then};
use crate::{Result, StoreError};
use rusqlite::types::Value;
use rusqlite::types::{Null, ToSql, ToSqlOutput};
use rusqlite::{Connection, OptionalExtension, Row};
use switchboard_core::money::{ExtraDigits, parse_decimal};
use switchboard_core::records::{PaymentRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::{PaymentFilter, PaymentView, SettledAmount};

const TABLE: ObjectTable = ObjectTable {
    name: "payments",
    columns: &[
        "external_id",
        "amount_minor",
        "refunded_minor",
        "currency",
        "currency_exponent",
        "status",
        "customer",
        "description",
        "balance_transaction_external_id",
        "created",
        "raw_json",
        "fee_minor",
        "net_minor",
        "method",
        "customer_email",
        "settlement_amount_minor",
        "settlement_currency",
        "settlement_exponent",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
/// The payments come as records (their raw JSON encoded here) or as
/// [`Encoded`](crate::raw::Encoded) ones.
pub fn upsert_many<R: Storable<Record = PaymentRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    payments: &[R],
) -> Result<UpsertCounts> {
    atomically(conn, |conn| {
        let mut inserted_rowids = Vec::new();
        let counts = upsert_rows_then(
            conn,
            &TABLE,
            connection_id,
            payments,
            |r, v| bind(r.record(), r.stored_raw_json()?, v),
            |conn, inserted| {
                inserted_rowids.extend(inserted.iter().map(|(_, rowid)| *rowid));
                add_totals(
                    conn,
                    connection_id,
                    inserted.iter().map(|(r, _)| r.record()),
                )
            },
        )?;
        index_for_search(conn, &inserted_rowids)?;
        Ok(counts)
    })
}

/// Adds payments just inserted to the full-text index, in one statement per call: FTS5 writes
/// a new index segment whenever a statement may need undoing on its own, so a trigger per row
/// wrote one per upsert statement (and merged them again), and it made each upsert keep a
/// statement journal (see `upsert`). Updated payments are re-indexed by the
/// `payments_fts_update` trigger, deleted ones dropped by `payments_fts_delete` (migration
/// 0013); the insert trigger went in migration 0017.
fn index_for_search(conn: &Connection, rowids: &[i64]) -> Result<()> {
    if rowids.is_empty() {
        return Ok(());
    }
    let rowids = serde_json::to_string(rowids).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO payments_fts (rowid, external_id, customer, customer_email, description)
         SELECT rowid, external_id, customer, customer_email, description FROM payments
         WHERE rowid IN (SELECT value FROM json_each(?1))",
    )?
    .execute([rowids])?;
    Ok(())
}

/// What payments just inserted add to `daily_totals`: a succeeded payment counts, with its own
/// fee (Square, PayPal), on its day.
fn add_totals<'a>(
    conn: &Connection,
    connection_id: &str,
    inserted: impl Iterator<Item = &'a PaymentRecord>,
) -> Result<()> {
    let mut shares = Shares::default();
    for p in inserted.filter(|p| p.status == "succeeded") {
        let fee = p.fee_minor.unwrap_or(0);
        shares.add(
            p.created,
            &p.currency,
            p.currency_exponent,
            1,
            p.amount_minor,
            fee,
        );
    }
    shares.apply(conn, connection_id)
}

/// One payment's values for `TABLE.columns`, with its stored raw JSON.
fn bind<'v>(
    p: &'v PaymentRecord,
    raw_json: ToSqlOutput<'v>,
    v: &mut Vec<ToSqlOutput<'v>>,
) -> Result<()> {
    v.extend([
        p.external_id.to_sql()?,
        p.amount_minor.to_sql()?,
        p.refunded_minor.to_sql()?,
        p.currency.to_sql()?,
        p.currency_exponent.to_sql()?,
        p.status.to_sql()?,
        p.customer.to_sql()?,
        p.description.to_sql()?,
        p.balance_transaction_external_id.to_sql()?,
        p.created.to_sql()?,
        raw_json,
        p.fee_minor.to_sql()?,
        p.net_minor.to_sql()?,
        p.method.to_sql()?,
        p.customer_email.to_sql()?,
    ]);
    match &p.settlement {
        Some(s) => v.extend([
            s.amount_minor.to_sql()?,
            s.currency.to_sql()?,
            s.currency_exponent.to_sql()?,
        ]),
        None => v.extend([Null, Null, Null].map(ToSqlOutput::from)),
    }
    Ok(())
}

/// [`upsert_many`] for one payment.
pub fn upsert(conn: &Connection, connection_id: &str, p: &PaymentRecord) -> Result<UpsertOutcome> {
    Ok(upsert_many(conn, connection_id, std::slice::from_ref(p))?.outcome())
}

/// Columns of a [`PaymentView`]; fee and net are the payment's own (Square, PayPal) or its
/// balance transaction's (Stripe) when it settled in the payment's own currency (otherwise the
/// detail view shows the settlement). A converted payment's exchange rate is its balance
/// transaction's (`sbt`, joined only for converted payments).
///
/// A settlement is the payment's own (a provider that states one) or, for Stripe, read here
/// from its balance transaction when that is in another currency than the charge: the charge
/// and its balance transaction come in separate streams, in either order, and joining them
/// when read costs nothing at sync time, where storing it would rewrite every converted
/// charge's row (a third of the import benchmark's time). Fee and net stay on the balance
/// transaction (the dashboard counts a Stripe fee there, never twice).
const COLUMNS: &str = "p.id, p.connection_id, c.name, c.provider, p.external_id,
        p.amount_minor, coalesce(p.fee_minor, bt.fee_minor), coalesce(p.net_minor, bt.net_minor),
        p.refunded_minor, p.currency, p.currency_exponent, p.status, p.customer, p.description,
        p.created, p.method, p.customer_email,
        coalesce(p.settlement_amount_minor, sbt.amount_minor),
        coalesce(p.settlement_currency, sbt.currency),
        coalesce(p.settlement_exponent, sbt.currency_exponent),
        json_extract(raw_json_text(sbt.raw_json), '$.exchange_rate')";

const FROM: &str = "FROM payments p
    JOIN connections c ON c.id = p.connection_id
    LEFT JOIN balance_transactions bt ON bt.connection_id = p.connection_id
        AND bt.external_id = p.balance_transaction_external_id
        AND bt.currency = p.currency AND bt.currency_exponent = p.currency_exponent
    LEFT JOIN balance_transactions sbt ON sbt.connection_id = p.connection_id
        AND sbt.external_id = p.balance_transaction_external_id
        AND sbt.currency <> p.currency";

fn view(r: &Row<'_>) -> rusqlite::Result<PaymentView> {
    Ok(PaymentView {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        connection: r.get(2)?,
        provider: r.get(3)?,
        external_id: r.get(4)?,
        amount_minor: r.get(5)?,
        fee_minor: r.get(6)?,
        net_minor: r.get(7)?,
        refunded_minor: r.get(8)?,
        currency: r.get(9)?,
        currency_exponent: r.get(10)?,
        status: r.get(11)?,
        customer: r.get(12)?,
        description: r.get(13)?,
        created_at: unix_to_rfc3339(r.get(14)?),
        method: r.get(15)?,
        customer_email: r.get(16)?,
        settled_as: settled_as(r)?,
    })
}

/// Columns 17 to 20 of a view row: the settlement, when the payment was converted.
fn settled_as(r: &Row<'_>) -> rusqlite::Result<Option<SettledAmount>> {
    let (amount, currency, exponent) = (
        r.get::<_, Option<i64>>(17)?,
        r.get::<_, Option<String>>(18)?,
        r.get::<_, Option<u8>>(19)?,
    );
    let (Some(amount_minor), Some(currency), Some(currency_exponent)) =
        (amount, currency, exponent)
    else {
        return Ok(None);
    };
    // A rate is a ratio, not money: Stripe sends it as a JSON number (`0.006712`), which
    // prints back as the same shortest decimal.
    let exchange_rate = r.get::<_, Option<f64>>(20)?.map(|rate| rate.to_string());
    Ok(Some(SettledAmount {
        amount_minor,
        currency,
        currency_exponent,
        exchange_rate,
    }))
}

/// A page cursor: the sort key of the last row of the previous page.
fn encode_cursor(created: i64, id: &str) -> String {
    format!("{created}.{id}")
}

fn decode_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || StoreError::Invalid(format!("`{cursor}` is not a payments cursor"));
    let (created, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((created.parse().map_err(|_| bad())?, id.to_string()))
}

/// A [`PaymentFilter`] as SQL: conditions on `p` (payments) and their parameters. Each present
/// field adds a plain condition (no `? IS NULL OR …`), so SQLite can pick an index for it.
struct Conditions {
    sql: Vec<String>,
    params: Vec<Value>,
}

impl Conditions {
    /// `ordered`: the conditions of a newest-first page (else of a count, which has no order
    /// to keep, so it always reads matches directly).
    fn of(conn: &Connection, filter: &PaymentFilter, ordered: bool) -> Result<Conditions> {
        let mut c = Conditions {
            sql: Vec::new(),
            params: Vec::new(),
        };
        if let Some(key) = non_empty(&filter.connection) {
            c.push(
                "p.connection_id = (SELECT id FROM connections WHERE id = ? OR name = ? LIMIT 1)",
                [Value::Text(key.into()), Value::Text(key.into())],
            );
        }
        if let Some(provider) = non_empty(&filter.provider) {
            let ids: Vec<String> = conn
                .prepare_cached("SELECT id FROM connections WHERE provider = ?1")?
                .query_map([provider], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            match ids.len() {
                0 => c.push("0", []),
                // One connection: its (connection, created) index yields the page in order.
                1 => c.push("p.connection_id = ?", ids.into_iter().map(Value::Text)),
                // Several: an IN over that index would gather and sort every match before the
                // first row; the `+` keeps SQLite on the newest-first index, filtering as it
                // walks, so a page costs about (page size / share of this provider) rows.
                n => c.push(
                    &format!(
                        "{}p.connection_id IN ({})",
                        if ordered { "+" } else { "" },
                        vec!["?"; n].join(", ")
                    ),
                    ids.into_iter().map(Value::Text),
                ),
            }
        }
        if let Some(status) = non_empty(&filter.status) {
            c.push("p.status = ?", [Value::Text(status.into())]);
        }
        if let Some(currency) = non_empty(&filter.currency) {
            c.push(
                "p.currency = ?",
                [Value::Text(currency.to_ascii_uppercase())],
            );
        }
        if let Some(from) = non_empty(&filter.from) {
            c.push("p.created >= ?", [Value::Integer(unix_time(from, "from")?)]);
        }
        if let Some(to) = non_empty(&filter.to) {
            c.push("p.created < ?", [Value::Integer(unix_time(to, "to")?)]);
        }
        for (bound, op, rounding) in [
            (&filter.min_amount, ">=", ExtraDigits::Ceil),
            (&filter.max_amount, "<=", ExtraDigits::Floor),
        ] {
            if let Some(amount) = non_empty(bound) {
                // The same decimal is a different count of minor units per exponent.
                let mut per_exponent = Vec::new();
                for exponent in 0..=MAX_EXPONENT {
                    let minor = parse_decimal(amount, exponent, rounding)
                        .map_err(|e| StoreError::Invalid(e.to_string()))?;
                    per_exponent.push(Value::Integer(minor));
                }
                let cases: String = (0..MAX_EXPONENT)
                    .map(|e| format!(" WHEN {e} THEN ?"))
                    .collect();
                c.push(
                    &format!("p.amount_minor {op} (CASE p.currency_exponent{cases} ELSE ? END)"),
                    per_exponent,
                );
            }
        }
        if let Some(search) = non_empty(&filter.search)
            && let Some(expression) = fts_query(search)
        {
            // Few matches: fetch them by rowid and sort them. Many: walk the newest-first
            // index and keep the matching rows (the `+` stops SQLite from choosing the
            // rowid plan), which reaches a page after about page size / match share rows.
            let few: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM (SELECT rowid FROM payments_fts
                         WHERE payments_fts MATCH ?1 LIMIT ?2)",
                )?
                .query_row(rusqlite::params![expression, FEW_MATCHES], |r| r.get(0))?;
            let plan = if few < FEW_MATCHES || !ordered {
                ""
            } else {
                "+"
            };
            c.push(
                &format!(
                    "{plan}p.rowid IN (SELECT rowid FROM payments_fts WHERE payments_fts MATCH ?)"
                ),
                [Value::Text(expression)],
            );
        }
        Ok(c)
    }

    fn push(&mut self, sql: &str, params: impl IntoIterator<Item = Value>) {
        self.sql.push(sql.to_string());
        self.params.extend(params);
    }

    fn where_clause(&self, extra: Option<&str>) -> String {
        let all: Vec<&str> = self.sql.iter().map(String::as_str).chain(extra).collect();
        if all.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", all.join(" AND "))
        }
    }
}

/// Below this many full-text matches a search reads its matches directly (see `Conditions`).
const FEW_MATCHES: i64 = 2_000;

/// Amount bounds are computed for exponents 0 to this (ISO 4217 has 0, 2, 3 and 4 (CLF)).
const MAX_EXPONENT: u8 = 4;

fn non_empty(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// An RFC 3339 time or a `YYYY-MM-DD` day (its 00:00 UTC) as unix seconds.
fn unix_time(text: &str, field: &str) -> Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| {
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp()
        })
        .map_err(|_| {
            StoreError::Invalid(format!(
                "`{text}` is not a date for `{field}`; write it like 2026-12-31"
            ))
        })
}

/// What a user typed as an FTS5 query: every word must appear, the last one as a prefix (search
/// as you type). Words are quoted, so FTS syntax (`AND`, `*`, `"`, `:`) in the input is text.
fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '_' && c != '-')
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

/// Raises each named payment's `refunded_minor` to the sum of its succeeded and pending
/// refunds in its own currency, in the caller's transaction. PayPal reports a refund only as a
/// transaction of its own that names the capture, so the refund rows are what say how much of
/// a payment went back. Never lowers it: a provider that states the refunded amount itself
/// (Stripe's `amount_refunded`) keeps its figure, and a payment whose refunds are not all
/// stored yet keeps what it had. Returns how many payments changed.
pub fn raise_refunded_from_refunds(
    conn: &Connection,
    connection_id: &str,
    payment_external_ids: &[&str],
) -> Result<usize> {
    if payment_external_ids.is_empty() {
        return Ok(0);
    }
    // No refund stored (a first import's payments come before its refunds): nothing to look
    // up for each payment.
    let any_refund: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM refunds WHERE connection_id = ?1)")?
        .query_row([connection_id], |r| r.get(0))?;
    if !any_refund {
        return Ok(0);
    }
    let ids = serde_json::to_string(payment_external_ids)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let changed = conn
        .prepare_cached(
            "UPDATE payments SET refunded_minor = r.total
             FROM (
                 SELECT payment_external_id, currency, currency_exponent,
                     SUM(amount_minor) AS total
                 FROM refunds
                 WHERE connection_id = ?1 AND status IN ('succeeded', 'pending')
                   AND payment_external_id IN (SELECT value FROM json_each(?2))
                 GROUP BY payment_external_id, currency, currency_exponent
             ) AS r
             WHERE payments.connection_id = ?1 AND payments.external_id = r.payment_external_id
               AND payments.currency = r.currency
               AND payments.currency_exponent = r.currency_exponent
               AND payments.refunded_minor < r.total",
        )?
        .execute(rusqlite::params![connection_id, ids])?;
    Ok(changed)
}

/// One page of the payments `filter` selects, newest first; `after` is the previous page's
/// cursor. A keyset page: a deep page costs what the first does.
pub fn page(
    conn: &Connection,
    filter: &PaymentFilter,
    limit: usize,
    after: Option<&str>,
) -> Result<(Vec<PaymentView>, Option<String>)> {
    let conditions = Conditions::of(conn, filter, true)?;
    let mut params = conditions.params.clone();
    let keyset = match after.map(decode_cursor).transpose()? {
        Some((created, id)) => {
            params.extend([Value::Integer(created), Value::Text(id)]);
            Some("(p.created, p.id) < (?, ?)")
        }
        None => None,
    };
    // `limit + 1` rows tell whether another page follows without a second query.
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    params.push(Value::Integer(fetch));
    let sql = format!(
        "SELECT {COLUMNS} {FROM} {}
         ORDER BY p.created DESC, p.id DESC
         LIMIT ?",
        conditions.where_clause(keyset)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows: Vec<(PaymentView, i64)> = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((view(r)?, r.get(14)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|(last, created)| encode_cursor(*created, &last.id))
    } else {
        None
    };
    Ok((rows.into_iter().map(|(v, _)| v).collect(), next_cursor))
}

/// How many payments `filter` selects.
pub fn count(conn: &Connection, filter: &PaymentFilter) -> Result<i64> {
    let conditions = Conditions::of(conn, filter, false)?;
    let sql = format!(
        "SELECT COUNT(*) FROM payments p {}",
        conditions.where_clause(None)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt.query_row(rusqlite::params_from_iter(conditions.params), |r| r.get(0))?)
}

/// Every payment `filter` selects, newest first, one at a time (CSV export without holding
/// them all in memory).
pub fn for_each(
    conn: &Connection,
    filter: &PaymentFilter,
    mut each: impl FnMut(PaymentView) -> Result<()>,
) -> Result<()> {
    let conditions = Conditions::of(conn, filter, true)?;
    let sql = format!(
        "SELECT {COLUMNS} {FROM} {} ORDER BY p.created DESC, p.id DESC",
        conditions.where_clause(None)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(conditions.params))?;
    while let Some(row) = rows.next()? {
        each(view(row)?)?;
    }
    Ok(())
}

/// One payment by our id, with its raw JSON.
pub fn get(conn: &Connection, id: &str) -> Result<(PaymentView, String, Option<String>)> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS}, raw_json_text(p.raw_json), p.balance_transaction_external_id {FROM}
             WHERE p.id = ?1"
        ),
        [id],
        |r| Ok((view(r)?, r.get(21)?, r.get(22)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("payment `{id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::records::{BalanceTransactionRecord, Settlement};

    fn record(n: i64, created: i64) -> PaymentRecord {
        PaymentRecord {
            external_id: format!("ch_{n}"),
            amount_minor: 100 + n,
            refunded_minor: 0,
            currency: "EUR".into(),
            currency_exponent: 2,
            status: "succeeded".into(),
            customer: None,
            description: None,
            balance_transaction_external_id: None,
            created,
            raw_json: format!("{{\"id\":\"ch_{n}\"}}"),
            fee_minor: None,
            net_minor: None,
            method: None,
            customer_email: None,
            settlement: None,
        }
    }

    fn balance_transaction(
        id: &str,
        charge: &str,
        amount: i64,
        currency: &str,
    ) -> BalanceTransactionRecord {
        BalanceTransactionRecord {
            external_id: id.into(),
            source_external_id: Some(charge.into()),
            kind: "charge".into(),
            amount_minor: amount,
            fee_minor: 50,
            net_minor: amount - 50,
            currency: currency.into(),
            currency_exponent: 2,
            status: "available".into(),
            available_on: None,
            payout_external_id: None,
            fee_lines: Vec::new(),
            created: 10,
            raw_json: format!(r#"{{"id":"{id}","exchange_rate":0.006712}}"#),
        }
    }

    /// The stored settlement of payment `external_id`.
    fn settled(conn: &Connection, external_id: &str) -> Option<SettledAmount> {
        let id: String = conn
            .query_row(
                "SELECT id FROM payments WHERE external_id = ?1",
                [external_id],
                |r| r.get(0),
            )
            .unwrap();
        get(conn, &id).unwrap().0.settled_as
    }

    #[test]
    fn a_converted_charge_settles_as_its_balance_transaction_whichever_comes_first() {
        let store = crate::test_store();
        let conn = store.conn();
        let jpy = |n: i64| PaymentRecord {
            currency: "JPY".into(),
            currency_exponent: 0,
            amount_minor: 1_000,
            balance_transaction_external_id: Some(format!("txn_{n}")),
            ..record(n, 10)
        };
        let usd = BalanceTransactionRecord {
            currency_exponent: 2,
            ..balance_transaction("txn_1", "ch_1", 671, "USD")
        };
        let want = Some(SettledAmount {
            amount_minor: 671,
            currency: "USD".into(),
            currency_exponent: 2,
            exchange_rate: Some("0.006712".into()),
        });
        // The charge first: nothing to settle from yet, then its balance transaction.
        let charge = jpy(1);
        upsert(&conn, "c1", &charge).unwrap();
        assert_eq!(settled(&conn, "ch_1"), None);
        crate::balance_transactions::upsert(&conn, "c1", &usd).unwrap();
        assert_eq!(settled(&conn, "ch_1"), want);
        // A changed charge (a refund) keeps it.
        let refunded = PaymentRecord {
            refunded_minor: 500,
            raw_json: "{\"id\":\"ch_1\",\"refunded\":500}".into(),
            ..charge
        };
        upsert(&conn, "c1", &refunded).unwrap();
        assert_eq!(settled(&conn, "ch_1"), want);

        // The balance transaction first, then the charge.
        let bt = balance_transaction("txn_2", "ch_2", 1_342, "USD");
        crate::balance_transactions::upsert(&conn, "c1", &bt).unwrap();
        upsert(&conn, "c1", &jpy(2)).unwrap();
        assert_eq!(settled(&conn, "ch_2").map(|s| s.amount_minor), Some(1_342));

        // Settled in its own currency: no conversion, no settlement.
        let eur = PaymentRecord {
            balance_transaction_external_id: Some("txn_3".into()),
            ..record(3, 10)
        };
        let bt = balance_transaction("txn_3", "ch_3", 103, "EUR");
        upsert(&conn, "c1", &eur).unwrap();
        crate::balance_transactions::upsert(&conn, "c1", &bt).unwrap();
        assert_eq!(settled(&conn, "ch_3"), None);

        // A payment that states its own settlement and has no balance transaction keeps it.
        let own = PaymentRecord {
            settlement: Some(Settlement {
                amount_minor: 915,
                currency: "EUR".into(),
                currency_exponent: 2,
            }),
            currency: "USD".into(),
            ..record(4, 10)
        };
        upsert(&conn, "c1", &own).unwrap();
        assert_eq!(
            settled(&conn, "ch_4"),
            Some(SettledAmount {
                amount_minor: 915,
                currency: "EUR".into(),
                currency_exponent: 2,
                exchange_rate: None,
            })
        );
    }

    #[test]
    fn upsert_reports_inserted_updated_unchanged() {
        let store = crate::test_store();
        let conn = store.conn();
        let mut r = record(1, 10);
        assert_eq!(upsert(&conn, "c1", &r).unwrap(), UpsertOutcome::Inserted);
        assert_eq!(upsert(&conn, "c1", &r).unwrap(), UpsertOutcome::Unchanged);
        r.raw_json = "{\"id\":\"ch_1\",\"status\":\"x\"}".into();
        r.status = "failed".into();
        assert_eq!(upsert(&conn, "c1", &r).unwrap(), UpsertOutcome::Updated);
        let all = PaymentFilter::default();
        assert_eq!(count(&conn, &all).unwrap(), 1);
        assert_eq!(page(&conn, &all, 10, None).unwrap().0[0].status, "failed");
    }

    #[test]
    fn a_batch_across_several_statements_counts_each_object_once() {
        let store = crate::test_store();
        let conn = store.conn();
        let first: Vec<_> = (0..150).map(|n| record(n, 10)).collect();
        let done = upsert_many(&conn, "c1", &first).unwrap();
        assert_eq!((done.inserted, done.updated, done.unchanged), (150, 0, 0));
        // 250 objects (three statements): 100 unchanged, 50 changed, 100 new.
        let mut second = first.clone();
        for p in &mut second[100..] {
            p.status = "refunded".into();
            p.raw_json = format!("{{\"id\":\"{}\",\"refunded\":true}}", p.external_id);
        }
        second.extend((150..250).map(|n| record(n, 20)));
        let done = upsert_many(&conn, "c1", &second).unwrap();
        assert_eq!(
            (done.inserted, done.updated, done.unchanged),
            (100, 50, 100)
        );
        assert_eq!(count(&conn, &PaymentFilter::default()).unwrap(), 250);
        assert_eq!(
            upsert_many::<PaymentRecord>(&conn, "c1", &[]).unwrap(),
            UpsertCounts::default()
        );
    }

    #[test]
    fn keyset_pages_cover_everything_once_even_with_equal_timestamps() {
        let store = crate::test_store();
        let conn = store.conn();
        // Many objects share a second, as busy accounts' do.
        for n in 0..257 {
            upsert(&conn, "c1", &record(n, 1_000 + n / 10)).unwrap();
        }
        let main = PaymentFilter {
            connection: Some("Main".into()),
            ..PaymentFilter::default()
        };
        assert_eq!(count(&conn, &main).unwrap(), 257);
        let seen = walk(&conn, &main, 20);
        assert_eq!(seen.len(), 257);
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 257);
        assert!(page(&conn, &main, 5, Some("garbage")).is_err());
    }

    /// Every page of `filter`, in order: the external ids.
    fn walk(conn: &Connection, filter: &PaymentFilter, size: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (items, next) = page(conn, filter, size, after.as_deref()).unwrap();
            seen.extend(items.iter().map(|i| i.external_id.clone()));
            match next {
                Some(c) => after = Some(c),
                None => return seen,
            }
        }
    }

    fn second_connection(conn: &Connection) {
        crate::connections::insert(
            conn,
            &crate::connections::NewConnection {
                id: "c2",
                provider: "square",
                name: "Shop",
                account_id: None,
                api_base: "http://y",
            },
        )
        .unwrap();
    }

    /// Payments of two providers, currencies with 0 and 2 decimals, several statuses, names.
    fn mixed(conn: &Connection) {
        second_connection(conn);
        let day = 1_767_225_600; // 2026-01-01T00:00:00Z
        for n in 0..40i64 {
            let mut r = record(n, day + n * 3_600);
            r.status = ["succeeded", "failed", "pending", "succeeded"][n as usize % 4].into();
            if n % 5 == 0 {
                r.currency = "JPY".into();
                r.currency_exponent = 0;
                r.amount_minor = 1_000 + n;
            }
            r.customer = Some(format!("Customer {n}"));
            r.customer_email = Some(format!("buyer{n}@example.com"));
            r.description = Some(
                if n == 7 {
                    "Deposit for the Élan quote"
                } else {
                    "Order"
                }
                .into(),
            );
            upsert(conn, if n % 2 == 0 { "c1" } else { "c2" }, &r).unwrap();
        }
    }

    fn ids(conn: &Connection, filter: PaymentFilter) -> Vec<String> {
        let mut found = walk(conn, &filter, 7);
        assert_eq!(
            count(conn, &filter).unwrap(),
            found.len() as i64,
            "{filter:?}"
        );
        found.sort();
        found
    }

    #[test]
    fn filters_narrow_and_combine() {
        let store = crate::test_store();
        let conn = store.conn();
        mixed(&conn);
        let f = PaymentFilter::default;
        assert_eq!(ids(&conn, f()).len(), 40);
        let square = ids(
            &conn,
            PaymentFilter {
                provider: Some("square".into()),
                ..f()
            },
        );
        assert_eq!(square.len(), 20);
        assert_eq!(
            square,
            ids(
                &conn,
                PaymentFilter {
                    connection: Some("c2".into()),
                    ..f()
                }
            )
        );
        assert_eq!(
            ids(
                &conn,
                PaymentFilter {
                    status: Some("failed".into()),
                    ..f()
                }
            )
            .len(),
            10
        );
        assert_eq!(
            ids(
                &conn,
                PaymentFilter {
                    currency: Some("jpy".into()),
                    ..f()
                }
            )
            .len(),
            8
        );
        // Hours 10 to 19 of the first day.
        let window = PaymentFilter {
            from: Some("2026-01-01T10:00:00Z".into()),
            to: Some("2026-01-01T20:00:00+00:00".into()),
            ..f()
        };
        assert_eq!(ids(&conn, window.clone()).len(), 10);
        let combined = ids(
            &conn,
            PaymentFilter {
                provider: Some("stripe".into()),
                status: Some("succeeded".into()),
                ..window
            },
        );
        // Stripe is the even n; succeeded is n % 4 in {0, 3}: 12, 16.
        assert_eq!(combined, vec!["ch_12".to_string(), "ch_16".to_string()]);
        assert_eq!(
            ids(
                &conn,
                PaymentFilter {
                    from: Some("2026-01-02".into()),
                    ..f()
                }
            )
            .len(),
            16
        );
        let bad = PaymentFilter {
            from: Some("yesterday".into()),
            ..f()
        };
        assert!(
            matches!(count(&conn, &bad), Err(StoreError::Invalid(m)) if m.contains("2026-12-31"))
        );
    }

    #[test]
    fn a_common_word_pages_in_order_like_a_rare_one() {
        let store = crate::test_store();
        let conn = store.conn();
        second_connection(&conn);
        // More matches than FEW_MATCHES, in two connections of different providers, plus
        // payments that do not match.
        let batch: Vec<PaymentRecord> = (0..2 * FEW_MATCHES + 300)
            .map(|n| {
                let mut r = record(n, 5_000 + (n * 7919) % 3_001);
                r.description = Some(
                    if n % 2 == 0 {
                        "Catering order"
                    } else {
                        "Lesson"
                    }
                    .into(),
                );
                r
            })
            .collect();
        for (i, chunk) in batch.chunks(500).enumerate() {
            upsert_many(&conn, if i % 2 == 0 { "c1" } else { "c2" }, chunk).unwrap();
        }
        let search = PaymentFilter {
            search: Some("catering".into()),
            ..PaymentFilter::default()
        };
        let matching = FEW_MATCHES + 150;
        assert_eq!(count(&conn, &search).unwrap(), matching);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut last: Option<(String, String)> = None;
        loop {
            let (items, next) = page(&conn, &search, 333, after.as_deref()).unwrap();
            for p in &items {
                let key = (p.created_at.clone(), p.id.clone());
                assert!(last.as_ref().is_none_or(|l| *l > key), "newest first");
                last = Some(key);
                assert_eq!(p.description.as_deref(), Some("Catering order"));
            }
            seen.extend(items.into_iter().map(|p| p.external_id));
            match next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len() as i64, matching);
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len());
    }

    #[test]
    fn amount_bounds_mean_the_same_decimal_in_every_currency() {
        let store = crate::test_store();
        let conn = store.conn();
        mixed(&conn);
        // EUR amounts are 1.00 + n cents; JPY amounts are 1000 + n yen.
        let at_least = |min: &str| {
            ids(
                &conn,
                PaymentFilter {
                    min_amount: Some(min.into()),
                    ..PaymentFilter::default()
                },
            )
        };
        // 1.30 EUR and up: EUR n >= 30 (n % 5 != 0: 31..39 less 35 = 8); every JPY (>= 1000 yen).
        assert_eq!(at_least("1.30").len(), 8 + 8);
        // 1,030 yen and up: JPY n >= 30 (30, 35); no EUR payment reaches 1030.00.
        assert_eq!(at_least("1030").len(), 2);
        // A bound finer than yen rounds up for a minimum: 1029.5 means 1030 yen.
        assert_eq!(at_least("1029.5").len(), 2);
        let at_most = ids(
            &conn,
            PaymentFilter {
                max_amount: Some("1.02".into()),
                ..PaymentFilter::default()
            },
        );
        assert_eq!(at_most, vec!["ch_1".to_string(), "ch_2".to_string()]);
        let bad = PaymentFilter {
            min_amount: Some("ten".into()),
            ..PaymentFilter::default()
        };
        assert!(count(&conn, &bad).is_err());
    }

    #[test]
    fn search_finds_words_and_prefixes_and_treats_syntax_as_text() {
        let store = crate::test_store();
        let conn = store.conn();
        mixed(&conn);
        let search = |q: &str| {
            ids(
                &conn,
                PaymentFilter {
                    search: Some(q.into()),
                    ..PaymentFilter::default()
                },
            )
        };
        assert_eq!(search("elan"), vec!["ch_7".to_string()]);
        assert_eq!(search("deposit quo"), vec!["ch_7".to_string()]);
        assert_eq!(search("buyer12@example.com"), vec!["ch_12".to_string()]);
        assert_eq!(search("ch_17"), vec!["ch_17".to_string()]);
        assert_eq!(search("ch_3").len(), 11); // a prefix while typing: ch_3, ch_30..ch_39
        assert_eq!(search("Customer 1").len(), 11); // "1" as a prefix: 1, 10..19
        assert!(search("nobody").is_empty());
        for syntax in ["\"", "AND", "*", "(", "a:b", "NEAR("] {
            search(syntax);
        }
        // A changed customer is found under the new name only.
        let mut r = record(3, 1_767_225_600 + 3 * 3_600);
        r.customer = Some("Renamed Person".into());
        r.raw_json = "{\"id\":\"ch_3\",\"v\":2}".into();
        r.status = "succeeded".into();
        upsert(&conn, "c2", &r).unwrap();
        assert_eq!(search("renamed"), vec!["ch_3".to_string()]);
        assert!(!search("customer 3").contains(&"ch_3".to_string()));
        // FTS5 checks an external-content index against its table: every payment inserted (in
        // a transaction or not), updated or deleted is indexed as it now is.
        conn.execute_batch("BEGIN").unwrap();
        let many: Vec<PaymentRecord> = (100..350).map(|n| record(n, 1_767_225_600 + n)).collect();
        assert_eq!(upsert_many(&conn, "c2", &many).unwrap().inserted, 250);
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(search("ch_349"), vec!["ch_349".to_string()]);
        conn.execute("DELETE FROM payments WHERE external_id = 'ch_7'", [])
            .unwrap();
        conn.execute_batch("INSERT INTO payments_fts (payments_fts) VALUES ('integrity-check')")
            .expect("the full-text index matches the payments");
    }

    #[test]
    fn refunds_raise_refunded_but_never_lower_a_stated_amount() {
        use switchboard_core::records::RefundRecord;
        let store = crate::test_store();
        let conn = store.conn();
        let refund = |id: &str, payment: &str, amount: i64, status: &str| RefundRecord {
            external_id: id.into(),
            payment_external_id: Some(payment.into()),
            amount_minor: amount,
            currency: "EUR".into(),
            currency_exponent: 2,
            status: status.into(),
            reason: None,
            balance_transaction_external_id: None,
            created: 20,
            raw_json: format!("{{\"id\":\"{id}\"}}"),
        };
        let refunded = |id: &str| -> i64 {
            conn.query_row(
                "SELECT refunded_minor FROM payments WHERE connection_id = 'c1' AND external_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        };
        // ch_1: 101, refunded twice in part (one pending), a failed one not counted.
        // ch_2: Stripe says 90 were refunded; its one stored refund (30) must not lower that.
        let mut stated = record(2, 10);
        stated.refunded_minor = 90;
        upsert_many(&conn, "c1", &[record(1, 10), stated, record(3, 10)]).unwrap();
        crate::refunds::upsert_many(
            &conn,
            "c1",
            &[
                refund("re_a", "ch_1", 40, "succeeded"),
                refund("re_b", "ch_1", 25, "pending"),
                refund("re_c", "ch_1", 30, "failed"),
                refund("re_d", "ch_2", 30, "succeeded"),
            ],
        )
        .unwrap();
        // Another connection's payment of the same id is not touched.
        second_connection(&conn);
        upsert_many(&conn, "c2", &[record(1, 10)]).unwrap();
        let ids = ["ch_1", "ch_2", "ch_3", "ch_missing"];
        assert_eq!(raise_refunded_from_refunds(&conn, "c1", &ids).unwrap(), 1);
        assert_eq!(refunded("ch_1"), 65);
        assert_eq!(refunded("ch_2"), 90);
        assert_eq!(refunded("ch_3"), 0);
        let other: i64 = conn
            .query_row(
                "SELECT refunded_minor FROM payments WHERE connection_id = 'c2'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(other, 0);
        // Nothing new: nothing changes.
        assert_eq!(raise_refunded_from_refunds(&conn, "c1", &ids).unwrap(), 0);
        // A refund in another currency is not added to a EUR payment.
        let mut usd = refund("re_e", "ch_3", 50, "succeeded");
        usd.currency = "USD".into();
        crate::refunds::upsert(&conn, "c1", &usd).unwrap();
        assert_eq!(
            raise_refunded_from_refunds(&conn, "c1", &["ch_3"]).unwrap(),
            0
        );
        assert_eq!(raise_refunded_from_refunds(&conn, "c1", &[]).unwrap(), 0);
    }
}
