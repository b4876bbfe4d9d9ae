//! How a provider object's own JSON (`raw_json`, kept so nothing the provider said is lost) is
//! stored: a zstd frame compressed with a dictionary built into the app, as a BLOB. A Stripe
//! charge's ~1.8 KB of JSON takes ~230 bytes: most of it is the same keys and shapes in every
//! object, which the dictionary holds once. Writing, checkpointing and paging a third of the
//! bytes was a large part of the import benchmark's time, and the database is a fifth the size.
//!
//! - A row written before this (or by hand) may hold TEXT: it is read as it is.
//! - The dictionary (`raw/dictionary-1.zdict`, id [`DICTIONARY_ID`]) was trained with zstd's
//!   trainer on the sandbox's Stripe objects of another seed than the benchmark's
//!   (`scripts/train-raw-dictionary.sh`). Real objects carry more varied values and other
//!   providers' other keys, and compress less (the shared keys and shapes still go). It never
//!   changes: rows written with it must stay readable. A better one takes a new id, and
//!   [`decode`] keeps reading frames of the old.
//! - Compression is deterministic, so an unchanged object encodes to the same bytes and the
//!   upsert's `raw_json IS NOT excluded.raw_json` still leaves it untouched. (A zstd upgrade
//!   that changed its output would rewrite each object once, counted as updated.)
//! - SQL reads it through `raw_json_text(raw_json)` ([`register`], on every store connection).

use crate::{Result, StoreError};
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::cell::RefCell;
use std::sync::OnceLock;
use zstd::dict::{DecoderDictionary, EncoderDictionary};

const DICTIONARY: &[u8] = include_bytes!("raw/dictionary-1.zdict");

/// The id zstd's trainer wrote into [`DICTIONARY`] (and so into every frame made with it).
pub const DICTIONARY_ID: u32 = 0x5342_0001;

/// zstd's fastest level: with the dictionary, higher levels gain 1-3% for 20% more time.
const LEVEL: i32 = 1;

fn encoder_dictionary() -> &'static EncoderDictionary<'static> {
    static DICT: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    DICT.get_or_init(|| EncoderDictionary::copy(DICTIONARY, LEVEL))
}

fn decoder_dictionary() -> &'static DecoderDictionary<'static> {
    static DICT: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    DICT.get_or_init(|| DecoderDictionary::copy(DICTIONARY))
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// A record with its raw JSON already encoded: the sync engine encodes a page where it parsed
/// it, so the compressing overlaps the database's work instead of adding to it.
pub struct Encoded<T> {
    pub record: T,
    pub raw_json: Vec<u8>,
}

/// A provider record's own JSON, as the provider sent it.
pub trait RawJson {
    fn raw_json_mut(&mut self) -> &mut String;
}

impl<T: RawJson> Encoded<T> {
    /// `record` with its raw JSON encoded. The record no longer holds the JSON text (the
    /// encoded bytes are what is stored): it is freed here, on the thread that parsed it,
    /// rather than with the record on the database's thread, where freeing another thread's
    /// memory was a measurable part of each commit.
    pub fn new(mut record: T) -> Result<Self> {
        let json = std::mem::take(record.raw_json_mut());
        Ok(Encoded {
            raw_json: encode(&json)?,
            record,
        })
    }
}

/// A record as an upsert stores it: the record itself, and its raw JSON as stored (encoded
/// now, or already as an [`Encoded`]).
pub trait Storable {
    type Record;
    fn record(&self) -> &Self::Record;
    fn stored_raw_json(&self) -> Result<ToSqlOutput<'_>>;
}

impl<T> Storable for Encoded<T> {
    type Record = T;
    fn record(&self) -> &T {
        &self.record
    }
    fn stored_raw_json(&self) -> Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.raw_json.as_slice()))
    }
}

/// `json` as stored.
pub fn encode(json: &str) -> Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(
                zstd::bulk::Compressor::with_prepared_dictionary(encoder_dictionary())
                    .map_err(io_error)?,
            ),
        };
        compressor.compress(json.as_bytes()).map_err(io_error)
    })
}

/// The JSON text of a stored `raw_json` value (a zstd frame, or TEXT as written before).
pub fn decode(value: ValueRef<'_>) -> Result<String> {
    match value {
        ValueRef::Text(text) => Ok(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(frame) => {
            let dictionary = zstd::zstd_safe::get_dict_id_from_frame(frame);
            if dictionary.map(|d| d.get()) != Some(DICTIONARY_ID) {
                return Err(StoreError::Invalid(format!(
                    "raw JSON stored with an unknown dictionary ({dictionary:?})"
                )));
            }
            let size = match zstd::zstd_safe::get_frame_content_size(frame) {
                Ok(Some(size)) => size as usize,
                _ => return Err(StoreError::Invalid("raw JSON frame without a size".into())),
            };
            let bytes = DECOMPRESSOR.with(|cell| {
                let mut cell = cell.borrow_mut();
                let decompressor = match cell.as_mut() {
                    Some(d) => d,
                    None => cell.insert(
                        zstd::bulk::Decompressor::with_prepared_dictionary(decoder_dictionary())
                            .map_err(io_error)?,
                    ),
                };
                decompressor.decompress(frame, size).map_err(io_error)
            })?;
            String::from_utf8(bytes).map_err(|e| StoreError::Invalid(e.to_string()))
        }
        other => Err(StoreError::Invalid(format!(
            "raw JSON stored as {:?}",
            other.data_type()
        ))),
    }
}

fn io_error(e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("raw JSON compression: {e}"))
}

/// Registers `raw_json_text(x)`: the JSON text of a stored `raw_json` value, for SQL such as
/// `json_extract(raw_json_text(raw_json), '$.exchange_rate')`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "raw_json_text",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| match ctx.get_raw(0) {
            ValueRef::Null => Ok(None),
            value => decode(value)
                .map(Some)
                .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e))),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHARGE: &str = r#"{"id":"ch_1","object":"charge","amount":1234,"currency":"eur","status":"succeeded","billing_details":{"address":{"city":null}}}"#;

    #[test]
    fn round_trips_and_is_deterministic() {
        let stored = encode(CHARGE).unwrap();
        assert!(stored.len() < CHARGE.len() / 2, "{} bytes", stored.len());
        assert_eq!(encode(CHARGE).unwrap(), stored);
        assert_eq!(decode(ValueRef::Blob(&stored)).unwrap(), CHARGE);
        assert_eq!(decode(ValueRef::Text(CHARGE.as_bytes())).unwrap(), CHARGE);
        let unicode = r#"{"description":"Café – 東京 🎉"}"#;
        assert_eq!(
            decode(ValueRef::Blob(&encode(unicode).unwrap())).unwrap(),
            unicode
        );
    }

    #[test]
    fn a_frame_without_the_dictionary_is_refused() {
        let plain = zstd::bulk::compress(CHARGE.as_bytes(), 1).unwrap();
        assert!(decode(ValueRef::Blob(&plain)).is_err());
        assert!(decode(ValueRef::Blob(b"not zstd")).is_err());
        assert!(decode(ValueRef::Integer(1)).is_err());
    }

    #[test]
    fn sql_reads_it_through_raw_json_text() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let stored = encode(CHARGE).unwrap();
        let (text, amount): (String, i64) = conn
            .query_row(
                "SELECT raw_json_text(?1), json_extract(raw_json_text(?1), '$.amount')",
                [&stored],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((text.as_str(), amount), (CHARGE, 1234));
        let null: Option<String> = conn
            .query_row("SELECT raw_json_text(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
    }
}
