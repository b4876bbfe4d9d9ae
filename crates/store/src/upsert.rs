//! The one way provider objects are stored: many objects per statement, keyed by (connection,
//! external id), an identical object left untouched.
//!
//! Each chunk of objects takes two statements:
//! - `INSERT … VALUES (…), (…), … ON CONFLICT (connection_id, external_id) DO NOTHING
//!   RETURNING id, rowid`: each row carries a fresh id, and the rows that come back were
//!   inserted;
//! - for the objects already stored, `UPDATE … FROM (VALUES …) WHERE raw_json IS NOT …
//!   RETURNING id`: the rows that come back were updated, the rest were identical.
//!
//! Why two, and why so: inside a transaction SQLite copies every page a statement touches into
//! a statement journal (so it can undo that statement alone) and flushes the full-text index's
//! pending terms into a new segment, unless the statement cannot fail half-way. An import is
//! nearly all inserts, so the insert is written to need neither: `OR FAIL` (a failure keeps
//! the rows before it; the caller's transaction is rolled back on any error), `DO NOTHING`
//! (an upsert's `DO UPDATE` may abort), no trigger writing a virtual table (the payments'
//! full-text rows are added per call, `payments::upsert_many`) and, in
//! [`Store::write_for_connection`](crate::Store::write_for_connection), no per-row foreign key
//! check. Outside a transaction the insert stays an `ABORT` one, atomic by itself. Many rows per
//! statement matter too: a statement's fixed cost and its journal's copy of each page it
//! touches are paid per statement, not per object.

use crate::{Result, StoreError};
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

/// Every provider record: its key, its raw JSON, and that JSON encoded as stored
/// (`raw::Storable`).
macro_rules! provider_records {
    ($($record:ty),* $(,)?) => {
        $(impl ProviderObject for $record {
            fn external_id(&self) -> &str {
                &self.external_id
            }
        }

        impl crate::raw::RawJson for $record {
            fn raw_json_mut(&mut self) -> &mut String {
                &mut self.raw_json
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

/// [`upsert_rows`], calling `inserted` after each chunk with the objects it inserted and their
/// rowids (in the same transaction, before the next chunk), for what a per-row trigger would
/// cost too much to keep up to date (`totals::add`, the payments' full-text index).
pub(crate) fn upsert_rows_then<T: ProviderObject>(
    conn: &Connection,
    table: &ObjectTable,
    connection_id: &str,
    objects: &[T],
    bind: impl for<'v> Fn(&'v T, &mut Vec<ToSqlOutput<'v>>) -> Result<()>,
    mut inserted: impl FnMut(&Connection, &[(&T, i64)]) -> Result<()>,
) -> Result<UpsertCounts> {
    let now = switchboard_core::now_rfc3339();
    let or_fail = !conn.is_autocommit();
    let mut counts = UpsertCounts::default();
    for chunk in distinct_chunks(objects) {
        let ids: Vec<String> = chunk.iter().map(|_| crate::new_id()).collect();
        // Per object: id, connection id, `table.columns`, `updated_at`. The update of the
        // objects already stored binds the same values (all but the first two) again.
        let width = table.columns.len() + 3;
        let mut values = Vec::with_capacity(chunk.len() * width);
        for (object, id) in chunk.iter().zip(&ids) {
            values.push(ToSqlOutput::from(id.as_str()));
            values.push(ToSqlOutput::from(connection_id));
            bind(*object, &mut values)?;
            values.push(ToSqlOutput::from(now.as_str()));
        }
        debug_assert_eq!(values.len(), chunk.len() * width);
        let new_ids: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut is_new = vec![None; chunk.len()];
        let mut stmt = conn.prepare_cached(&insert_statement(table, chunk.len(), or_fail))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(&values))?;
        while let Some(row) = rows.next()? {
            let id = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let i = *new_ids.get(id).ok_or_else(|| {
                StoreError::Invalid(format!("{}: an insert returned a foreign id", table.name))
            })?;
            is_new[i] = Some(row.get::<_, i64>(1)?);
        }
        drop(rows);
        let new_objects: Vec<(&T, i64)> = chunk
            .iter()
            .zip(&is_new)
            .filter_map(|(object, rowid)| rowid.map(|r| (*object, r)))
            .collect();
        let stored: Vec<&[ToSqlOutput<'_>]> = values
            .chunks(width)
            .zip(&is_new)
            .filter_map(|(row, rowid)| rowid.is_none().then_some(&row[2..]))
            .collect();
        counts.inserted += new_objects.len();
        if !new_objects.is_empty() {
            inserted(conn, &new_objects)?;
        }
        if !stored.is_empty() {
            let updated = update_rows(conn, table, connection_id, &stored)?;
            counts.updated += updated;
            counts.unchanged += stored.len() - updated;
        }
    }
    Ok(counts)
}

/// Rewrites the stored rows of these objects (each one's `table.columns` and `updated_at`
/// values) whose raw JSON differs; returns how many it rewrote.
fn update_rows(
    conn: &Connection,
    table: &ObjectTable,
    connection_id: &str,
    objects: &[&[ToSqlOutput<'_>]],
) -> Result<usize> {
    let connection = ToSqlOutput::from(connection_id);
    let values = objects
        .iter()
        .flat_map(|object| object.iter())
        .chain(std::iter::once(&connection));
    let mut stmt = conn.prepare_cached(&update_statement(table, objects.len()))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
    let mut updated = 0;
    while rows.next()?.is_some() {
        updated += 1;
    }
    Ok(updated)
}

/// Runs `f` as one unit: as it is inside the caller's transaction, or in a savepoint of its own
/// when there is none, for an upsert whose rows and what it keeps beside them (totals, the
/// full-text index) are written by several statements.
pub(crate) fn atomically<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    conn.execute_batch("SAVEPOINT upsert")?;
    let result = f(conn);
    conn.execute_batch(if result.is_ok() {
        "RELEASE upsert"
    } else {
        "ROLLBACK TO upsert; RELEASE upsert"
    })?;
    result
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

/// `rows` placeholder tuples of `columns` values each: `(?, ?), (?, ?)`.
fn placeholders(sql: &mut String, rows: usize, columns: usize) {
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            sql.push_str(if column == 0 { "?" } else { ", ?" });
        }
        sql.push(')');
    }
}

/// The insert of `rows` objects (see the module's notes): binds id, connection id,
/// `table.columns` and `updated_at` per row; returns the inserted rows' id and rowid.
fn insert_statement(table: &ObjectTable, rows: usize, or_fail: bool) -> String {
    let mut sql = format!(
        "INSERT {}INTO {} (id, connection_id, {}, updated_at) VALUES ",
        if or_fail { "OR FAIL " } else { "" },
        table.name,
        table.columns.join(", ")
    );
    placeholders(&mut sql, rows, table.columns.len() + 3);
    sql.push_str(" ON CONFLICT (connection_id, external_id) DO NOTHING RETURNING id, rowid");
    sql
}

/// The update of `rows` stored objects: binds `table.columns` and `updated_at` per row, then
/// the connection id; rewrites a row only if its raw JSON differs, and returns its id.
fn update_statement(table: &ObjectTable, rows: usize) -> String {
    let column = |name: &str| {
        let i = table.columns.iter().position(|c| *c == name);
        format!("v.column{}", i.expect("an object table's column") + 1)
    };
    let mut sql = format!("UPDATE {} SET ", table.name);
    for name in table.columns.iter().filter(|c| **c != "external_id") {
        let _ = write!(sql, "{name} = {}, ", column(name));
    }
    let _ = write!(
        sql,
        "updated_at = v.column{} FROM (VALUES ",
        table.columns.len() + 1
    );
    placeholders(&mut sql, rows, table.columns.len() + 1);
    let _ = write!(
        sql,
        ") AS v WHERE {0}.connection_id = ? AND {0}.external_id = {1} \
         AND {0}.raw_json IS NOT {2} RETURNING id",
        table.name,
        column("external_id"),
        column("raw_json"),
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
    fn the_statements_have_one_placeholder_per_value() {
        let table = ObjectTable {
            name: "t",
            columns: &["external_id", "raw_json"],
        };
        let insert = insert_statement(&table, 2, true);
        assert_eq!(insert.matches('?').count(), 2 * 5);
        assert!(insert.starts_with(
            "INSERT OR FAIL INTO t (id, connection_id, external_id, raw_json, updated_at) VALUES (?, ?, ?, ?, ?), (?"
        ));
        assert!(!insert_statement(&table, 2, false).contains("OR FAIL"));
        let update = update_statement(&table, 2);
        assert_eq!(update.matches('?').count(), 2 * 3 + 1);
        assert!(update.starts_with(
            "UPDATE t SET raw_json = v.column2, updated_at = v.column3 FROM (VALUES (?, ?, ?), (?"
        ));
        assert!(
            update.ends_with(
                "t.external_id = v.column1 AND t.raw_json IS NOT v.column2 RETURNING id"
            )
        );
    }

    /// Insert, update and leave alone, through the real statements on a real table.
    #[test]
    fn an_upsert_counts_inserted_updated_and_unchanged_objects() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id TEXT PRIMARY KEY, connection_id TEXT NOT NULL,
               external_id TEXT NOT NULL, raw_json TEXT NOT NULL, updated_at TEXT NOT NULL,
               UNIQUE (connection_id, external_id));",
        )
        .unwrap();
        let table = ObjectTable {
            name: "t",
            columns: &["external_id", "raw_json"],
        };
        struct Row(String, String);
        impl ProviderObject for Row {
            fn external_id(&self) -> &str {
                &self.0
            }
        }
        let rows = |pairs: &[(&str, &str)]| -> Vec<Row> {
            pairs
                .iter()
                .map(|(k, v)| Row(k.to_string(), v.to_string()))
                .collect()
        };
        let upsert = |conn: &Connection, connection: &str, objects: &[Row]| {
            let mut rowids = Vec::new();
            let counts = upsert_rows_then(
                conn,
                &table,
                connection,
                objects,
                |r: &Row, v| {
                    v.extend([
                        ToSqlOutput::from(r.0.as_str()),
                        ToSqlOutput::from(r.1.as_str()),
                    ]);
                    Ok(())
                },
                |_, inserted| {
                    rowids.extend(inserted.iter().map(|(r, rowid)| (r.0.clone(), *rowid)));
                    Ok(())
                },
            )
            .unwrap();
            (counts, rowids)
        };
        let (counts, rowids) = upsert(&conn, "c1", &rows(&[("a", "1"), ("b", "1")]));
        assert_eq!(
            (counts.inserted, counts.updated, counts.unchanged),
            (2, 0, 0)
        );
        for (external_id, rowid) in rowids {
            let stored: String = conn
                .query_row("SELECT external_id FROM t WHERE rowid = ?1", [rowid], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(stored, external_id, "the rowid handed on is the row's");
        }
        // In a transaction (the `OR FAIL` statement): one new, one changed, one identical.
        conn.execute_batch("BEGIN").unwrap();
        let (counts, rowids) = upsert(&conn, "c1", &rows(&[("a", "1"), ("b", "2"), ("c", "1")]));
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(
            (counts.inserted, counts.updated, counts.unchanged),
            (1, 1, 1)
        );
        assert_eq!(
            rowids.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        let b: String = conn
            .query_row("SELECT raw_json FROM t WHERE external_id = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(b, "2");
        // Another connection's object of the same external id is another row.
        let (counts, _) = upsert(&conn, "c2", &rows(&[("a", "9")]));
        assert_eq!(counts.inserted, 1);
        let a: String = conn
            .query_row(
                "SELECT raw_json FROM t WHERE connection_id = 'c1' AND external_id = 'a'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(a, "1");
    }
}
