//! Balance transactions: where a payment's or refund's money went (fees, net, availability,
//! payout), in the settlement currency.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use switchboard_core::records::{BalanceTransactionRecord, UpsertOutcome};
use switchboard_core::unix_to_rfc3339;
use switchboard_core::views::{FeeLine, SettlementView};

pub fn upsert(
    conn: &Connection,
    connection_id: &str,
    b: &BalanceTransactionRecord,
) -> Result<UpsertOutcome> {
    let id = crate::new_id();
    let fee_lines =
        serde_json::to_string(&b.fee_lines).map_err(|e| StoreError::Invalid(e.to_string()))?;
    crate::upsert_object(
        conn,
        "INSERT INTO balance_transactions (id, connection_id, external_id, source_external_id,
               type, amount_minor, fee_minor, net_minor, currency, currency_exponent, status,
               available_on, payout_external_id, fee_lines_json, created, raw_json, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (connection_id, external_id) DO UPDATE SET
               source_external_id = excluded.source_external_id, type = excluded.type,
               amount_minor = excluded.amount_minor, fee_minor = excluded.fee_minor,
               net_minor = excluded.net_minor, currency = excluded.currency,
               currency_exponent = excluded.currency_exponent, status = excluded.status,
               available_on = excluded.available_on,
               payout_external_id = excluded.payout_external_id,
               fee_lines_json = excluded.fee_lines_json, created = excluded.created,
               raw_json = excluded.raw_json, updated_at = excluded.updated_at
             WHERE balance_transactions.raw_json IS NOT excluded.raw_json
             RETURNING id",
        &id,
        params![
            id,
            connection_id,
            b.external_id,
            b.source_external_id,
            b.kind,
            b.amount_minor,
            b.fee_minor,
            b.net_minor,
            b.currency,
            b.currency_exponent,
            b.status,
            b.available_on,
            b.payout_external_id,
            fee_lines,
            b.created,
            b.raw_json,
            switchboard_core::now_rfc3339()
        ],
    )
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
