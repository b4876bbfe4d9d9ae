//! Payouts and what each contains (its entries), keyed by (connection, external id).

use crate::raw::Storable;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, upsert_rows};
use crate::{Result, StoreError};
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row};
use switchboard_core::records::{PayoutEntryRecord, PayoutRecord};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::{PayoutEntryView, PayoutPage, PayoutView};

const PAYOUTS: ObjectTable = ObjectTable {
    name: "payouts",
    columns: &[
        "external_id",
        "amount_minor",
        "currency",
        "currency_exponent",
        "status",
        "arrival_date",
        "destination",
        "created",
        "raw_json",
    ],
};

const ENTRIES: ObjectTable = ObjectTable {
    name: "payout_entries",
    columns: &[
        "external_id",
        "payout_external_id",
        "kind",
        "source_external_id",
        "gross_minor",
        "fee_minor",
        "net_minor",
        "currency",
        "currency_exponent",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates payouts by (connection, external id).
pub fn upsert_many<R: Storable<Record = PayoutRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    payouts: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &PAYOUTS, connection_id, payouts, |stored, v| {
        let p = stored.record();
        v.extend([
            p.external_id.to_sql()?,
            p.amount_minor.to_sql()?,
            p.currency.to_sql()?,
            p.currency_exponent.to_sql()?,
            p.status.to_sql()?,
            p.arrival_date.to_sql()?,
            p.destination.to_sql()?,
            p.created.to_sql()?,
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}

/// Inserts or updates payout entries by (connection, external id).
pub fn upsert_entries<R: Storable<Record = PayoutEntryRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    entries: &[R],
) -> Result<UpsertCounts> {
    upsert_rows(conn, &ENTRIES, connection_id, entries, |stored, v| {
        let e = stored.record();
        v.extend([
            e.external_id.to_sql()?,
            e.payout_external_id.to_sql()?,
            e.kind.to_sql()?,
            e.source_external_id.to_sql()?,
            e.gross_minor.to_sql()?,
            e.fee_minor.to_sql()?,
            e.net_minor.to_sql()?,
            e.currency.to_sql()?,
            e.currency_exponent.to_sql()?,
            e.created.to_sql()?,
            stored.stored_raw_json()?,
        ]);
        Ok(())
    })
}

/// Columns of a [`PayoutView`], with its entries' count and net sum. A payout's own entry
/// (Stripe lists the payout's `type=payout` balance transaction among its contents) is not
/// part of what it pays out.
const COLUMNS: &str = "po.id, po.connection_id, c.name, c.provider, po.external_id,
    po.amount_minor, po.currency, po.currency_exponent, po.status, po.arrival_date,
    po.destination, po.created,
    (SELECT count(*) FROM payout_entries e WHERE e.connection_id = po.connection_id
        AND e.payout_external_id = po.external_id AND e.kind != 'payout'),
    (SELECT coalesce(sum(e.net_minor), 0) FROM payout_entries e
        WHERE e.connection_id = po.connection_id AND e.payout_external_id = po.external_id
        AND e.kind != 'payout')";

const FROM: &str = "FROM payouts po JOIN connections c ON c.id = po.connection_id";

fn view(r: &Row<'_>) -> rusqlite::Result<PayoutView> {
    let amount: i64 = r.get(5)?;
    let entries: i64 = r.get(12)?;
    let entries_net: i64 = r.get(13)?;
    Ok(PayoutView {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        connection: r.get(2)?,
        provider: r.get(3)?,
        external_id: r.get(4)?,
        amount_minor: amount,
        currency: r.get(6)?,
        currency_exponent: r.get(7)?,
        status: r.get(8)?,
        arrival_date: r.get::<_, Option<i64>>(9)?.map(unix_to_rfc3339),
        destination: r.get(10)?,
        created_at: unix_to_rfc3339(r.get(11)?),
        entries,
        entries_net_minor: entries_net,
        difference_minor: (entries > 0).then_some(amount - entries_net),
    })
}

fn encode_cursor(created: i64, id: &str) -> String {
    format!("{created}.{id}")
}

fn decode_cursor(cursor: &str) -> Result<(i64, String)> {
    let bad = || StoreError::Invalid(format!("`{cursor}` is not a payouts cursor"));
    let (created, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((created.parse().map_err(|_| bad())?, id.to_string()))
}

/// One page of payouts, newest first; `connection` is a name or id.
pub fn page(
    conn: &Connection,
    connection: Option<&str>,
    limit: usize,
    after: Option<&str>,
) -> Result<PayoutPage> {
    let after = after.map(decode_cursor).transpose()?;
    let (after_created, after_id) = match &after {
        Some((c, id)) => (Some(*c), Some(id.as_str())),
        None => (None, None),
    };
    let sql = format!(
        "SELECT {COLUMNS} {FROM}
         WHERE (?1 IS NULL OR c.id = ?1 OR c.name = ?1)
           AND (?2 IS NULL OR (po.created, po.id) < (?2, ?3))
         ORDER BY po.created DESC, po.id DESC LIMIT ?4"
    );
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut items: Vec<(PayoutView, i64)> = stmt
        .query_map(
            rusqlite::params![connection, after_created, after_id, fetch],
            |r| Ok((view(r)?, r.get(11)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|(p, created)| encode_cursor(*created, &p.id))
    } else {
        None
    };
    Ok(PayoutPage {
        items: items.into_iter().map(|(p, _)| p).collect(),
        next_cursor,
    })
}

/// One payout by our id or the provider's, with its raw JSON.
pub fn get(conn: &Connection, key: &str) -> Result<(PayoutView, String)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, raw_json_text(po.raw_json) {FROM} WHERE po.id = ?1 OR po.external_id = ?1
         ORDER BY po.id = ?1 DESC LIMIT 1"
    ))?;
    stmt.query_row([key], |r| Ok((view(r)?, r.get(14)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("payout `{key}`")))
}

/// The payout that carried a payment, found through its entries: by the payment's id (Square,
/// PayPal) or its balance transaction's (Stripe).
pub fn for_payment(
    conn: &Connection,
    connection_id: &str,
    payment_external_id: &str,
    balance_transaction_external_id: Option<&str>,
) -> Result<Option<PayoutView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM}
         WHERE po.connection_id = ?1 AND po.external_id IN (
             SELECT payout_external_id FROM payout_entries
             WHERE connection_id = ?1 AND (source_external_id = ?2 OR external_id = ?3))
         ORDER BY po.created DESC LIMIT 1"
    ))?;
    Ok(stmt
        .query_row(
            rusqlite::params![
                connection_id,
                payment_external_id,
                balance_transaction_external_id
            ],
            view,
        )
        .optional()?)
}

/// What a payout contains, in the order it happened, linked to stored payments.
pub fn entries(
    conn: &Connection,
    connection_id: &str,
    payout_external_id: &str,
) -> Result<Vec<PayoutEntryView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.external_id, e.kind, e.source_external_id,
                (SELECT p.id FROM payments p WHERE p.connection_id = e.connection_id
                    AND (p.external_id = e.source_external_id
                         OR p.balance_transaction_external_id = e.external_id) LIMIT 1),
                e.gross_minor, e.fee_minor, e.net_minor, e.currency, e.currency_exponent, e.created
         FROM payout_entries e
         WHERE e.connection_id = ?1 AND e.payout_external_id = ?2
         ORDER BY e.created, e.external_id",
    )?;
    let rows = stmt.query_map([connection_id, payout_external_id], |r| {
        Ok(PayoutEntryView {
            external_id: r.get(0)?,
            kind: r.get(1)?,
            source_external_id: r.get(2)?,
            payment_id: r.get(3)?,
            gross_minor: r.get(4)?,
            fee_minor: r.get(5)?,
            net_minor: r.get(6)?,
            currency: r.get(7)?,
            currency_exponent: r.get(8)?,
            created_at: unix_to_rfc3339(r.get(9)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payout(id: &str, amount: i64) -> PayoutRecord {
        PayoutRecord {
            external_id: id.into(),
            amount_minor: amount,
            currency: "EUR".into(),
            currency_exponent: 2,
            status: "paid".into(),
            arrival_date: Some(2_000),
            destination: Some("•••• 6789".into()),
            created: 1_000,
            raw_json: format!("{{\"id\":\"{id}\"}}"),
        }
    }

    fn entry(id: &str, payout: &str, kind: &str, net: i64) -> PayoutEntryRecord {
        PayoutEntryRecord {
            external_id: id.into(),
            payout_external_id: payout.into(),
            kind: kind.into(),
            source_external_id: Some(format!("src_{id}")),
            gross_minor: net + 30,
            fee_minor: 30,
            net_minor: net,
            currency: "EUR".into(),
            currency_exponent: 2,
            created: 900,
            raw_json: format!("{{\"id\":\"{id}\"}}"),
        }
    }

    #[test]
    fn reconciliation_compares_the_entries_with_the_amount() {
        let store = crate::test_store();
        let conn = store.conn();
        upsert_many(
            &conn,
            "c1",
            &[
                payout("po_ok", 1_500),
                payout("po_off", 1_000),
                payout("po_none", 700),
            ],
        )
        .unwrap();
        upsert_entries(
            &conn,
            "c1",
            &[
                entry("e1", "po_ok", "charge", 1_000),
                entry("e2", "po_ok", "charge", 600),
                entry("e3", "po_ok", "refund", -100),
                // The payout's own balance transaction: not part of the contents.
                entry("e4", "po_ok", "payout", -1_500),
                entry("e5", "po_off", "charge", 999),
            ],
        )
        .unwrap();
        let (ok, _) = get(&conn, "po_ok").unwrap();
        assert_eq!(
            (ok.entries, ok.entries_net_minor, ok.difference_minor),
            (3, 1_500, Some(0))
        );
        let (off, _) = get(&conn, "po_off").unwrap();
        assert_eq!(off.difference_minor, Some(1));
        let (none, _) = get(&conn, "po_none").unwrap();
        assert_eq!((none.entries, none.difference_minor), (0, None));
        assert_eq!(entries(&conn, "c1", "po_ok").unwrap().len(), 4);
        let found = for_payment(&conn, "c1", "src_e2", None).unwrap().unwrap();
        assert_eq!(found.external_id, "po_ok");
        assert!(
            for_payment(&conn, "c1", "nothing", Some("e5"))
                .unwrap()
                .is_some()
        );
        let page1 = page(&conn, Some("Main"), 2, None).unwrap();
        assert_eq!(page1.items.len(), 2);
        let page2 = page(&conn, None, 2, page1.next_cursor.as_deref()).unwrap();
        assert_eq!(page2.items.len(), 1);
        assert!(page2.next_cursor.is_none());
    }
}
