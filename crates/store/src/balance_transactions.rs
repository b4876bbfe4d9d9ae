//! Balance transactions: where a payment's or refund's money went (fees, net, availability,
//! payout), in the settlement currency.

use crate::raw::Storable;
use crate::totals::Shares;
use crate::upsert::{ObjectTable, ProviderObject, UpsertCounts, atomically, upsert_rows_then};
use crate::{Result, StoreError};
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{Connection, OptionalExtension, params};
use switchboard_core::records::{BalanceTransactionRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::{FeeLine, SettlementView};

const TABLE: ObjectTable = ObjectTable {
    name: "balance_transactions",
    columns: &[
        "external_id",
        "source_external_id",
        "type",
        "amount_minor",
        "fee_minor",
        "net_minor",
        "currency",
        "currency_exponent",
        "status",
        "available_on",
        "payout_external_id",
        "fee_lines_json",
        "created",
        "raw_json",
    ],
};

/// Inserts or updates by (connection, external id); identical objects are left untouched.
/// The balance transactions come as records (their raw JSON encoded here) or as
/// [`Encoded`](crate::raw::Encoded) ones.
pub fn upsert_many<R: Storable<Record = BalanceTransactionRecord> + ProviderObject>(
    conn: &Connection,
    connection_id: &str,
    transactions: &[R],
) -> Result<UpsertCounts> {
    atomically(conn, |conn| {
        upsert_rows_then(
            conn,
            &TABLE,
            connection_id,
            transactions,
            |r, v| bind(r.record(), r.stored_raw_json()?, v),
            |conn, inserted| {
                add_totals(
                    conn,
                    connection_id,
                    inserted.iter().map(|(r, _)| r.record()),
                )
            },
        )
    })
}

/// What balance transactions just inserted add to `daily_totals`: Stripe's fees, on the
/// balance transaction of a charge or payment, in its currency.
fn add_totals<'a>(
    conn: &Connection,
    connection_id: &str,
    inserted: impl Iterator<Item = &'a BalanceTransactionRecord>,
) -> Result<()> {
    let mut shares = Shares::default();
    for b in inserted.filter(|b| fee_counts(&b.kind)) {
        shares.add(
            b.created,
            &b.currency,
            b.currency_exponent,
            0,
            0,
            b.fee_minor,
        );
    }
    shares.apply(conn, connection_id)
}

/// Whether a balance transaction of this type carries a payment's fee (the dashboard's fees).
fn fee_counts(kind: &str) -> bool {
    matches!(kind, "charge" | "payment")
}

/// One balance transaction's values for `TABLE.columns`, with its stored raw JSON.
fn bind<'v>(
    b: &'v BalanceTransactionRecord,
    raw_json: ToSqlOutput<'v>,
    v: &mut Vec<ToSqlOutput<'v>>,
) -> Result<()> {
    let fee_lines =
        serde_json::to_string(&b.fee_lines).map_err(|e| StoreError::Invalid(e.to_string()))?;
    v.extend([
        b.external_id.to_sql()?,
        b.source_external_id.to_sql()?,
        b.kind.to_sql()?,
        b.amount_minor.to_sql()?,
        b.fee_minor.to_sql()?,
        b.net_minor.to_sql()?,
        b.currency.to_sql()?,
        b.currency_exponent.to_sql()?,
        b.status.to_sql()?,
        b.available_on.to_sql()?,
        b.payout_external_id.to_sql()?,
        ToSqlOutput::from(fee_lines),
        b.created.to_sql()?,
        raw_json,
    ]);
    Ok(())
}

/// [`upsert_many`] for one balance transaction.
pub fn upsert(
    conn: &Connection,
    connection_id: &str,
    b: &BalanceTransactionRecord,
) -> Result<UpsertOutcome> {
    Ok(upsert_many(conn, connection_id, std::slice::from_ref(b))?.outcome())
}

pub fn get(
    conn: &Connection,
    connection_id: &str,
    external_id: &str,
) -> Result<Option<SettlementView>> {
    let row = conn
        .query_row(
            "SELECT external_id, amount_minor, fee_minor, net_minor, currency, currency_exponent,
               status, available_on, payout_external_id, fee_lines_json
             FROM balance_transactions WHERE connection_id = ?1 AND external_id = ?2",
            params![connection_id, external_id],
            |r| {
                Ok((
                    SettlementView {
                        external_id: r.get(0)?,
                        amount_minor: r.get(1)?,
                        fee_minor: r.get(2)?,
                        net_minor: r.get(3)?,
                        currency: r.get(4)?,
                        currency_exponent: r.get(5)?,
                        status: r.get(6)?,
                        available_on: r.get::<_, Option<i64>>(7)?.map(unix_to_rfc3339),
                        payout_id: r.get(8)?,
                        fee_lines: Vec::new(),
                    },
                    r.get::<_, String>(9)?,
                ))
            },
        )
        .optional()?;
    row.map(|(mut view, lines)| {
        view.fee_lines = serde_json::from_str::<Vec<FeeLine>>(&lines)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok(view)
    })
    .transpose()
}
