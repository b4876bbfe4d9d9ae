//! Money as integer minor units plus an ISO 4217 code. Never floats.
//!
//! The exponent travels with every amount: it is the number of decimal places of the minor
//! unit the amount is counted in. Normally that is the ISO 4217 exponent of the currency, but a
//! provider may count in other units (Stripe counts ISK in hundredths), and an amount that cannot
//! be converted exactly keeps the provider's exponent rather than lose precision.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 currencies whose minor unit is not 1/100. Anything not listed has exponent 2.
const ISO_EXPONENTS: &[(&str, u8)] = &[
    // zero-decimal
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    // three-decimal
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    // four-decimal
    ("CLF", 4),
    ("UYW", 4),
];

/// An upper-case ISO 4217 alphabetic code, validated to be three ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("`{0}` is not a three-letter ISO 4217 currency code")]
    BadCurrency(String),
    #[error("`{0}` is not an amount; write it like 12.50")]
    BadAmount(String),
    #[error("`{0}` has more decimals than the currency's {1}")]
    TooPrecise(String, u8),
}

impl Currency {
    /// Parses a code in any case (`jpy`, `JPY`).
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        Ok(Currency([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    pub fn code(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).expect("currency code is ASCII")
    }

    /// The ISO 4217 exponent (decimal places of the minor unit).
    pub fn iso_exponent(&self) -> u8 {
        ISO_EXPONENTS
            .iter()
            .find(|(code, _)| *code == self.code())
            .map_or(2, |(_, exp)| *exp)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer count of `10^-exponent` units of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
    pub exponent: u8,
}

impl Money {
    /// An amount in the currency's ISO minor units.
    pub fn iso(amount_minor: i64, currency: Currency) -> Self {
        Money {
            amount_minor,
            currency,
            exponent: currency.iso_exponent(),
        }
    }

    /// Converts an amount counted with `from_exponent` decimals to the ISO exponent when that is
    /// exact; otherwise keeps the amount as given, so no precision is ever lost.
    pub fn normalised(amount: i64, currency: Currency, from_exponent: u8) -> Self {
        let (amounts, exponent) = Self::normalise_many(&[amount], currency, from_exponent);
        Money {
            amount_minor: amounts[0],
            currency,
            exponent,
        }
    }

    /// Like [`Money::normalised`] for amounts that must share one exponent (an amount and its
    /// fee, or a charge and its refunded part): all convert, or none do.
    pub fn normalise_many(
        amounts: &[i64],
        currency: Currency,
        from_exponent: u8,
    ) -> (Vec<i64>, u8) {
        let iso = currency.iso_exponent();
        let converted: Option<Vec<i64>> = if from_exponent > iso {
            let factor = 10i64.pow(u32::from(from_exponent - iso));
            amounts
                .iter()
                .map(|a| (a % factor == 0).then(|| a / factor))
                .collect()
        } else {
            let factor = 10i64.pow(u32::from(iso - from_exponent));
            amounts.iter().map(|a| a.checked_mul(factor)).collect()
        };
        match converted {
            Some(v) => (v, iso),
            None => (amounts.to_vec(), from_exponent),
        }
    }

    /// A plain decimal string (`-12.34`, `1234`, `1.500`), for logs and exports. Exact.
    pub fn to_decimal_string(&self) -> String {
        decimal_string(self.amount_minor, self.exponent)
    }
}

/// `amount` minor units with `exponent` decimals as an exact decimal string.
pub fn decimal_string(amount: i64, exponent: u8) -> String {
    let digits = amount.unsigned_abs().to_string();
    let exp = usize::from(exponent);
    let body = if exp == 0 {
        digits
    } else {
        let padded = format!("{digits:0>width$}", width = exp + 1);
        let (int, frac) = padded.split_at(padded.len() - exp);
        format!("{int}.{frac}")
    };
    if amount < 0 { format!("-{body}") } else { body }
}

/// How [`parse_decimal`] treats digits beyond the exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraDigits {
    /// More decimals than the currency has is an error (an amount to store or send).
    Reject,
    /// Round toward positive infinity (the lower bound of a range).
    Ceil,
    /// Round toward negative infinity (the upper bound of a range).
    Floor,
}

/// How strictly [`parse_decimal_as`] reads a decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// What a person types: spaces around it, a leading `+`, `12.`, and decimals past the
    /// exponent that are all zeros (`10.500` with 2) are fine.
    Lenient,
    /// What an API sends (PayPal's money `value`: `^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$`):
    /// none of those, and any decimal past the exponent, a zero too, is an extra digit.
    Exact,
}

/// An exact decimal string (`12.5`, `-0.01`, `1000`) as minor units with `exponent` decimals,
/// without floating point, spelled as a person would ([`Spelling::Lenient`]).
pub fn parse_decimal(text: &str, exponent: u8, extra: ExtraDigits) -> Result<i64, MoneyError> {
    parse_decimal_as(text, exponent, extra, Spelling::Lenient)
}

/// [`parse_decimal`] with the spelling it must have.
pub fn parse_decimal_as(
    text: &str,
    exponent: u8,
    extra: ExtraDigits,
    spelling: Spelling,
) -> Result<i64, MoneyError> {
    let bad = || MoneyError::BadAmount(text.to_string());
    let exact = spelling == Spelling::Exact;
    let t = if exact { text } else { text.trim() };
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None if exact => (false, t),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || (exact && digits.ends_with('.'))
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let exp = usize::from(exponent);
    let (kept, dropped) = if frac.len() > exp {
        frac.split_at(exp)
    } else {
        (frac, "")
    };
    let scaled = format!("{int}{kept:0<exp$}");
    let mut magnitude: i128 = if scaled.is_empty() {
        0
    } else {
        scaled.parse().map_err(|_| bad())?
    };
    let extra_digits = if exact {
        !dropped.is_empty()
    } else {
        dropped.bytes().any(|b| b != b'0')
    };
    if extra_digits {
        // Rounding a magnitude: up moves away from zero for positives, toward zero for negatives.
        let away_from_zero = match extra {
            ExtraDigits::Reject => return Err(MoneyError::TooPrecise(text.to_string(), exponent)),
            ExtraDigits::Ceil => !negative,
            ExtraDigits::Floor => negative,
        };
        if away_from_zero && dropped.bytes().any(|b| b != b'0') {
            magnitude += 1;
        }
    }
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_err(|_| bad())
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    #[test]
    fn decimals_parse_exactly_and_round_only_when_asked() {
        use ExtraDigits::*;
        assert_eq!(parse_decimal("12.5", 2, Reject).unwrap(), 1250);
        assert_eq!(parse_decimal("-0.01", 2, Reject).unwrap(), -1);
        assert_eq!(parse_decimal("1000", 0, Reject).unwrap(), 1000);
        assert_eq!(parse_decimal("1.234", 3, Reject).unwrap(), 1234);
        assert_eq!(parse_decimal(".5", 2, Reject).unwrap(), 50);
        assert_eq!(parse_decimal("10.500", 2, Reject).unwrap(), 1050);
        assert!(matches!(
            parse_decimal("10.505", 2, Reject),
            Err(MoneyError::TooPrecise(..))
        ));
        assert_eq!(parse_decimal("10.501", 2, Ceil).unwrap(), 1051);
        assert_eq!(parse_decimal("10.509", 2, Floor).unwrap(), 1050);
        assert_eq!(parse_decimal("-10.501", 2, Ceil).unwrap(), -1050);
        assert_eq!(parse_decimal("-10.501", 2, Floor).unwrap(), -1051);
        assert_eq!(parse_decimal("0.5", 0, Ceil).unwrap(), 1);
        for bad in [
            "",
            ".",
            "1,5",
            "1.2.3",
            "abc",
            "--1",
            "1e3",
            "99999999999999999999",
        ] {
            assert!(parse_decimal(bad, 2, Reject).is_err(), "{bad}");
        }
    }

    #[test]
    fn exact_spelling_is_what_an_api_sends() {
        use ExtraDigits::*;
        let exact = |t: &str, e: u8| parse_decimal_as(t, e, Reject, Spelling::Exact);
        assert_eq!(exact("10.50", 2), Ok(1050));
        assert_eq!(exact("-1.23", 2), Ok(-123));
        assert_eq!(exact("1000", 0), Ok(1000));
        assert_eq!(exact(".5", 2), Ok(50));
        assert_eq!(exact("-0.01", 2), Ok(-1));
        // Lenient takes these; an API never sends them.
        for t in [" 1.00", "+1", "1.", "-", "--1", "1,50", "1e3"] {
            assert!(exact(t, 2).is_err(), "{t}");
        }
        assert_eq!(parse_decimal("1.", 2, Reject), Ok(100));
        assert_eq!(parse_decimal(" +1 ", 2, Reject), Ok(100));
        // A zero past the exponent is still a digit too many.
        assert_eq!(
            exact("10.500", 2),
            Err(MoneyError::TooPrecise("10.500".into(), 2))
        );
        assert_eq!(parse_decimal("10.500", 2, Reject), Ok(1050));
        assert_eq!(
            parse_decimal_as("10.500", 2, Ceil, Spelling::Exact),
            Ok(1050)
        );
        assert_eq!(
            parse_decimal_as("10.501", 2, Ceil, Spelling::Exact),
            Ok(1051)
        );
    }

    #[test]
    fn parses_any_case_and_rejects_garbage() {
        assert_eq!(cur("jpy").code(), "JPY");
        assert!(Currency::parse("JP").is_err());
        assert!(Currency::parse("J1Y").is_err());
        assert!(Currency::parse("EURO").is_err());
    }

    #[test]
    fn iso_exponents() {
        assert_eq!(cur("JPY").iso_exponent(), 0);
        assert_eq!(cur("KRW").iso_exponent(), 0);
        assert_eq!(cur("KWD").iso_exponent(), 3);
        assert_eq!(cur("BHD").iso_exponent(), 3);
        assert_eq!(cur("EUR").iso_exponent(), 2);
        assert_eq!(cur("HUF").iso_exponent(), 2);
        assert_eq!(cur("ISK").iso_exponent(), 0);
    }

    #[test]
    fn decimal_strings_are_exact() {
        assert_eq!(Money::iso(1234, cur("JPY")).to_decimal_string(), "1234");
        assert_eq!(Money::iso(1234, cur("EUR")).to_decimal_string(), "12.34");
        assert_eq!(Money::iso(5, cur("EUR")).to_decimal_string(), "0.05");
        assert_eq!(Money::iso(-5, cur("KWD")).to_decimal_string(), "-0.005");
        assert_eq!(Money::iso(1500, cur("BHD")).to_decimal_string(), "1.500");
        assert_eq!(
            Money::iso(i64::MIN, cur("USD")).to_decimal_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn normalises_only_when_exact() {
        // Stripe counts ISK in hundredths.
        let isk = Money::normalised(12300, cur("ISK"), 2);
        assert_eq!((isk.amount_minor, isk.exponent), (123, 0));
        let odd = Money::normalised(12345, cur("ISK"), 2);
        assert_eq!((odd.amount_minor, odd.exponent), (12345, 2));
        let eur = Money::normalised(1234, cur("EUR"), 2);
        assert_eq!((eur.amount_minor, eur.exponent), (1234, 2));
        let up = Money::normalised(12, cur("EUR"), 0);
        assert_eq!((up.amount_minor, up.exponent), (1200, 2));
        // All or nothing, so an amount and its refund keep one exponent.
        assert_eq!(
            Money::normalise_many(&[12300, 550], cur("ISK"), 2),
            (vec![12300, 550], 2)
        );
        assert_eq!(
            Money::normalise_many(&[12300, 1200], cur("ISK"), 2),
            (vec![123, 12], 0)
        );
    }
}
