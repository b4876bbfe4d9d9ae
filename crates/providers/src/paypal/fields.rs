//! Reading the two field shapes every PayPal answer shares: money objects
//! (`{"currency_code": "USD", "value": "10.50"}`, `amounts.rs` for the value) and date-times.
//! Transactions, refunds and subscriptions read them here, so each is read one way.

use std::borrow::Cow;

use chrono::DateTime;
use serde::Deserialize;
use switchboard_core::Currency;

use super::amounts::{parse_value, stored};

/// A PayPal money object, borrowed from the answer.
#[derive(Deserialize)]
pub(crate) struct MoneyFields<'a> {
    #[serde(borrow)]
    currency_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<Cow<'a, str>>,
}

impl MoneyFields<'_> {
    /// Its currency; `name` says which field, for the error.
    pub(crate) fn currency(&self, name: &str) -> Result<Currency, String> {
        let code = self
            .currency_code
            .as_deref()
            .ok_or_else(|| format!("`{name}` has no currency"))?;
        Currency::parse(code).map_err(|e| format!("`{name}`: {e}"))
    }

    /// Its value in PayPal units of `currency`, which it must be in (an amount and its fee
    /// share the transaction's currency).
    pub(crate) fn units_in(&self, currency: Currency, name: &str) -> Result<i64, String> {
        if let Some(code) = self.currency_code.as_deref()
            && !code.eq_ignore_ascii_case(currency.code())
        {
            return Err(format!(
                "`{name}` is in {code}, the transaction in {}",
                currency.code()
            ));
        }
        let value = self
            .value
            .as_deref()
            .ok_or_else(|| format!("`{name}` has no value"))?;
        parse_value(value, currency).map_err(|e| format!("`{name}`: {e}"))
    }

    /// The amount as Switchboard stores it: minor units, currency, exponent.
    pub(crate) fn stored(&self, name: &str) -> Result<(i64, Currency, u8), String> {
        let currency = self.currency(name)?;
        let units = self.units_in(currency, name)?;
        let (minor, exponent) = stored(&[units], currency);
        Ok((minor[0], currency, exponent))
    }
}

/// Unix seconds of a PayPal date-time: RFC 3339, or with the `+0000` offset PayPal's search
/// answers often use.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(json: &str) -> MoneyFields<'_> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn money_objects_are_read_exactly_in_their_currency() {
        let usd = Currency::parse("USD").unwrap();
        let m = money(r#"{"currency_code": "USD", "value": "10.50"}"#);
        assert_eq!(m.stored("amount"), Ok((1050, usd, 2)));
        assert_eq!(m.units_in(usd, "amount"), Ok(1050));
        let huf = money(r#"{"currency_code": "HUF", "value": "1500"}"#);
        let (minor, currency, exponent) = huf.stored("amount").unwrap();
        assert_eq!((minor, currency.code(), exponent), (150_000, "HUF", 2));
        let eur = Currency::parse("EUR").unwrap();
        let why = m.units_in(eur, "fee_amount").unwrap_err();
        assert!(why.contains("`fee_amount` is in USD"), "{why}");
        let why = money(r#"{"value": "1.00"}"#).stored("amount").unwrap_err();
        assert!(why.contains("no currency"), "{why}");
        let why = money(r#"{"currency_code": "USD"}"#)
            .stored("amount")
            .unwrap_err();
        assert!(why.contains("no value"), "{why}");
        let why = money(r#"{"currency_code": "JPY", "value": "1.5"}"#)
            .stored("amount")
            .unwrap_err();
        assert!(why.contains("PayPal uses 0 for JPY"), "{why}");
    }

    #[test]
    fn dates_with_paypals_offset_forms() {
        assert_eq!(parse_time("2024-05-01T10:00:00Z"), Some(1_714_557_600));
        assert_eq!(parse_time("2024-05-01T10:00:00+0000"), Some(1_714_557_600));
        assert_eq!(parse_time("2024-05-01T03:00:00-07:00"), Some(1_714_557_600));
        assert_eq!(
            parse_time("2024-05-01T03:00:00.5-0700"),
            Some(1_714_557_600)
        );
        assert_eq!(parse_time("2024-05-01"), None);
    }
}
