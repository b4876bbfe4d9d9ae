//! Payments (Stripe charges, later PayPal captures and Square payments), keyed by
//! (connection, external id). Listing is keyset-paged, newest first, so a deep page costs the
//! same as the first.

use crate::upsert::{ObjectTable, UpsertCounts, upsert_rows};
use crate::{Result, StoreError};
use rusqlite::types::{Null, ToSql, ToSqlOutput};
use rusqlite::{Connection, OptionalExtension, Row, params};
use switchboard_core::records::{PaymentRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::{PaymentPage, PaymentView};

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
pub fn upsert_many(
    conn: &Connection,
    connection_id: &str,
    payments: &[PaymentRecord],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &TABLE, connection_id, payments, |p, v| {
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
            p.raw_json.to_sql()?,
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
    })
}

/// [`upsert_many`] for one payment.
pub fn upsert(conn: &Connection, connection_id: &str, p: &PaymentRecord) -> Result<UpsertOutcome> {
    Ok(upsert_many(conn, connection_id, std::slice::from_ref(p))?.outcome())
}

/// Columns of a [`PaymentView`]; fee and net come from the payment's balance transaction when
/// it settled in the payment's own currency (otherwise the detail view shows the settlement).
const COLUMNS: &str = "p.id, p.connection_id, c.name, c.provider, p.external_id,
        p.amount_minor, bt.fee_minor, bt.net_minor, p.refunded_minor, p.currency,
        p.currency_exponent, p.status, p.customer, p.description, p.created";

const FROM: &str = "FROM payments p
    JOIN connections c ON c.id = p.connection_id
    LEFT JOIN balance_transactions bt ON bt.connection_id = p.connection_id
        AND bt.external_id = p.balance_transaction_external_id
        AND bt.currency = p.currency AND bt.currency_exponent = p.currency_exponent";

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
    })
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

/// One page, newest first. `connection_id` filters; `after` is the previous page's cursor.
pub fn page(
    conn: &Connection,
    connection_id: Option<&str>,
    limit: usize,
    after: Option<&str>,
) -> Result<PaymentPage> {
    let after = after.map(decode_cursor).transpose()?;
    let (after_created, after_id) = match &after {
        Some((c, id)) => (Some(*c), Some(id.as_str())),
        None => (None, None),
    };
    // `limit + 1` rows tell whether another page follows without a second query.
    let sql = format!(
        "SELECT {COLUMNS} {FROM}
         WHERE (?1 IS NULL OR p.connection_id = ?1)
           AND (?2 IS NULL OR (p.created, p.id) < (?2, ?3))
         ORDER BY p.created DESC, p.id DESC
         LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let mut rows: Vec<(PaymentView, i64)> = stmt
        .query_map(
            params![connection_id, after_created, after_id, fetch],
            |r| Ok((view(r)?, r.get(14)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|(last, created)| encode_cursor(*created, &last.id))
    } else {
        None
    };
    Ok(PaymentPage {
        items: rows.into_iter().map(|(v, _)| v).collect(),
        next_cursor,
        total: count(conn, connection_id)?,
    })
}

pub fn count(conn: &Connection, connection_id: Option<&str>) -> Result<i64> {
    let mut stmt = conn
        .prepare_cached("SELECT COUNT(*) FROM payments WHERE (?1 IS NULL OR connection_id = ?1)")?;
    Ok(stmt.query_row([connection_id], |r| r.get(0))?)
}

/// One payment by our id, with its raw JSON.
pub fn get(conn: &Connection, id: &str) -> Result<(PaymentView, String, Option<String>)> {
    conn.query_row(
        &format!(
            "SELECT {COLUMNS}, p.raw_json, p.balance_transaction_external_id {FROM}
             WHERE p.id = ?1"
        ),
        [id],
        |r| Ok((view(r)?, r.get(15)?, r.get(16)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("payment `{id}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(count(&conn, None).unwrap(), 1);
        assert_eq!(
            page(&conn, None, 10, None).unwrap().items[0].status,
            "failed"
        );
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
        assert_eq!(count(&conn, None).unwrap(), 250);
        assert_eq!(
            upsert_many(&conn, "c1", &[]).unwrap(),
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
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = page(&conn, Some("c1"), 20, after.as_deref()).unwrap();
            assert_eq!(p.total, 257);
            seen.extend(p.items.iter().map(|i| i.external_id.clone()));
            match p.next_cursor {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 257);
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), 257);
        assert!(page(&conn, None, 5, Some("garbage")).is_err());
    }
}
