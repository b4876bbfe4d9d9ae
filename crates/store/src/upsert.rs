//! The one way provider objects are stored: many objects per statement, keyed by (connection,
//! external id), an identical object left untouched.
//!
//! A statement is `INSERT … VALUES (…), (…), … ON CONFLICT (connection_id, external_id) DO
//! UPDATE … WHERE <table>.raw_json IS NOT excluded.raw_json RETURNING id`. Each row carries a
//! fresh id: our id back means the object was inserted, the stored row's id back means it was
//! updated, and no row back means it was already identical. Many rows per statement matter for
//! the import benchmark: inside a transaction SQLite copies every page a statement touches into
//! the statement's journal once per statement, so one row per statement copied the table's and
//! each index's page once per object (plus a statement's fixed cost per object).

use crate::Result;
use rusqlite::Connection;
use rusqlite::types::ToSqlOutput;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use switchboard_core::records::UpsertOutcome;

/// A table of provider objects: its name and the columns an upsert writes besides `id`,
/// `connection_id` and `updated_at`, in bind order. It must have `external_id` and `raw_json`
/// and a UNIQUE (connection_id, external_id).
pub(crate) struct ObjectTable {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// What a batch upsert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl UpsertCounts {
    /// What happened to the one object of a single-object upsert.
    pub fn outcome(self) -> UpsertOutcome {
        if self.inserted > 0 {
            UpsertOutcome::Inserted
        } else if self.updated > 0 {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Unchanged
        }
    }
}

/// Objects per statement: a provider's page (Stripe's largest is 100), well under SQLite's
/// 32,766 bound parameters at 17 columns.
const ROWS_PER_STATEMENT: usize = 100;

/// A provider object as the upsert sees it: its key within a connection.
pub trait ProviderObject {
    fn external_id(&self) -> &str;
}

impl<T: ProviderObject> ProviderObject for crate::raw::Encoded<T> {
    fn external_id(&self) -> &str {
        self.record.external_id()
    }
}

/// Every provider record: its key, and its raw JSON encoded as stored (`raw::Storable`).
macro_rules! provider_records {
    ($($record:ty),* $(,)?) => {
        $(impl ProviderObject for $record {
            fn external_id(&self) -> &str {
                &self.external_id
            }
        }

        impl crate::raw::Storable for $record {
            type Record = $record;
            fn record(&self) -> &$record {
                self
            }
            fn stored_raw_json(&self) -> Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(crate::raw::encode(&self.raw_json)?))
            }
        })*
    };
}

provider_records!(
    switchboard_core::records::PaymentRecord,
    switchboard_core::records::RefundRecord,
    switchboard_core::records::BalanceTransactionRecord,
    switchboard_core::records::DisputeRecord,
    switchboard_core::records::PayoutRecord,
    switchboard_core::records::PayoutEntryRecord,
    switchboard_core::records::CustomerRecord,
    switchboard_core::records::SubscriptionRecord,
);

/// Upserts `objects` into `table`; `bind` pushes one object's values for `table.columns`.
pub(crate) fn upsert_rows<T: ProviderObject>(
    conn: &Connection,
    table: &ObjectTable,
    connection_id: &str,
    objects: &[T],
    bind: impl for<'v> Fn(&'v T, &mut Vec<ToSqlOutput<'v>>) -> Result<()>,
) -> Result<UpsertCounts> {
    upsert_rows_then(conn, table, connection_id, objects, bind, |_, _| Ok(()))
}

/// [`upsert_rows`], calling `inserted` after each statement with the objects it inserted (in
/// the same transaction, before the next statement), for what a per-row trigger would cost
/// too much to keep up to date (`totals::add`).
pub(crate) fn upsert_rows_then<T: ProviderObject>(
    conn: &Connection,
    table: &ObjectTable,
    connection_id: &str,
    objects: &[T],
    bind: impl for<'v> Fn(&'v T, &mut Vec<ToSqlOutput<'v>>) -> Result<()>,
    mut inserted: impl FnMut(&Connection, &[&T]) -> Result<()>,
) -> Result<UpsertCounts> {
    let now = switchboard_core::now_rfc3339();
    let mut counts = UpsertCounts::default();
    for chunk in distinct_chunks(objects) {
        let ids: Vec<String> = chunk.iter().map(|_| crate::new_id()).collect();
        let mut values = Vec::with_capacity(chunk.len() * (table.columns.len() + 3));
        for (object, id) in chunk.iter().zip(&ids) {
            values.push(ToSqlOutput::from(id.as_str()));
            values.push(ToSqlOutput::from(connection_id));
            bind(*object, &mut values)?;
            values.push(ToSqlOutput::from(now.as_str()));
        }
        debug_assert_eq!(values.len(), chunk.len() * (table.columns.len() + 3));
        let new_ids: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut stmt = conn.prepare_cached(&statement(table, chunk.len()))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
        let mut returned = 0;
        let mut new_objects = Vec::new();
        while let Some(row) = rows.next()? {
            returned += 1;
            let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            match new_ids.get(id) {
                Some(&i) => new_objects.push(chunk[i]),
                None => counts.updated += 1,
            }
        }
        drop(rows);
        counts.inserted += new_objects.len();
        counts.unchanged += chunk.len() - returned;
        if !new_objects.is_empty() {
            inserted(conn, &new_objects)?;
        }
    }
    Ok(counts)
}

/// `objects` in order, in statements of at most [`ROWS_PER_STATEMENT`] that never hold one
/// external id twice: within one statement the second would update the row the first inserted,
/// and both would come back with a new id, counted (and summed) as two inserts.
fn distinct_chunks<T: ProviderObject>(objects: &[T]) -> Vec<Vec<&T>> {
    let mut chunks = Vec::with_capacity(objects.len().div_ceil(ROWS_PER_STATEMENT));
    let mut chunk: Vec<&T> = Vec::with_capacity(ROWS_PER_STATEMENT.min(objects.len()));
    let mut keys: HashSet<&str> = HashSet::with_capacity(chunk.capacity());
    for object in objects {
        if chunk.len() == ROWS_PER_STATEMENT || !keys.insert(object.external_id()) {
            chunks.push(std::mem::take(&mut chunk));
            keys.clear();
            keys.insert(object.external_id());
        }
        chunk.push(object);
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    chunks
}

/// The upsert statement for `rows` objects.
fn statement(table: &ObjectTable, rows: usize) -> String {
    let columns = table.columns.len() + 3;
    let mut sql = format!(
        "INSERT INTO {} (id, connection_id, {}, updated_at) VALUES ",
        table.name,
        table.columns.join(", ")
    );
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            sql.push_str(if column == 0 { "?" } else { ", ?" });
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (connection_id, external_id) DO UPDATE SET ");
    for column in table.columns.iter().filter(|c| **c != "external_id") {
        let _ = write!(sql, "{column} = excluded.{column}, ");
    }
    let _ = write!(
        sql,
        "updated_at = excluded.updated_at WHERE {0}.raw_json IS NOT excluded.raw_json RETURNING id",
        table.name
    );
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Object(String);
    impl ProviderObject for Object {
        fn external_id(&self) -> &str {
            &self.0
        }
    }

    fn chunked(ids: &[String]) -> Vec<Vec<&str>> {
        let objects: Vec<Object> = ids.iter().cloned().map(Object).collect();
        distinct_chunks(&objects)
            .iter()
            .map(|c| {
                c.iter()
                    .map(|o| ids.iter().find(|i| **i == o.0).unwrap().as_str())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_statement_never_holds_one_external_id_twice() {
        let ids: Vec<String> = ["a", "b", "a", "c", "c", "d"].map(String::from).to_vec();
        assert_eq!(
            chunked(&ids),
            vec![vec!["a", "b"], vec!["a", "c"], vec!["c", "d"]]
        );
        assert_eq!(chunked(&vec!["x".to_string(); 250]).len(), 250);
        let distinct: Vec<String> = (0..250).map(|i| format!("o{i}")).collect();
        let sizes: Vec<usize> = chunked(&distinct).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![100, 100, 50]);
    }

    #[test]
    fn the_statement_has_one_placeholder_per_value() {
        let table = ObjectTable {
            name: "t",
            columns: &["external_id", "raw_json"],
        };
        let sql = statement(&table, 2);
        assert_eq!(sql.matches('?').count(), 2 * 5);
        assert!(sql.starts_with(
            "INSERT INTO t (id, connection_id, external_id, raw_json, updated_at) VALUES (?, ?, ?, ?, ?), (?"
        ));
        assert!(sql.contains("DO UPDATE SET raw_json = excluded.raw_json, updated_at"));
        assert!(!sql.contains("external_id = excluded"));
    }
}
