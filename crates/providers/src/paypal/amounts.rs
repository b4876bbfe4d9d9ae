//! PayPal's money: `{"currency_code": "USD", "value": "10.50"}`, the value a decimal string
//! (`^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$` in the spec) with the currency's decimals. JPY, HUF
//! and TWD have none ("this currency does not support decimals",
//! https://developer.paypal.com/api/rest/reference/currency-codes/); the others PayPal
//! supports have two. Read exactly, never through floats; stored in ISO 4217 minor units
//! (a HUF `"1500"` is 150000 hundredths, as ISO counts forints).

use crate::{ProviderError, ProviderErrorKind};
use switchboard_core::money::{ExtraDigits, MoneyError, Spelling, parse_decimal_as};
use switchboard_core::{Currency, Money};

/// Decimal places of PayPal's values in `currency`.
pub fn paypal_decimals(currency: Currency) -> u8 {
    match currency.code() {
        "JPY" | "HUF" | "TWD" => 0,
        _ => currency.iso_exponent(),
    }
}

/// A PayPal value in `currency`'s PayPal units (`"10.50"` USD → 1050, `"1000"` JPY → 1000),
/// spelled exactly as the spec's pattern says. More decimals than PayPal uses for the currency
/// is refused, saying so.
pub(crate) fn parse_value(text: &str, currency: Currency) -> Result<i64, String> {
    let places = paypal_decimals(currency);
    parse_decimal_as(text, places, ExtraDigits::Reject, Spelling::Exact).map_err(|e| match e {
        MoneyError::TooPrecise(..) => format!(
            "`{text}` {code} has {} decimal(s); PayPal uses {places} for {code}",
            text.split_once('.').map_or(0, |(_, frac)| frac.len()),
            code = currency.code(),
        ),
        _ => format!("`{text}` is not an amount"),
    })
}

/// Amounts in PayPal units of one currency, in the units Switchboard stores (ISO minor units
/// when exact, which they always are: PayPal never uses more decimals than ISO), with their
/// exponent.
pub(crate) fn stored(amounts: &[i64], currency: Currency) -> (Vec<i64>, u8) {
    Money::normalise_many(amounts, currency, paypal_decimals(currency))
}

/// `amount_minor` (with `exponent` decimals) as the value PayPal takes in `currency`:
/// `1200` EUR (2) → `"12.00"`, `150000` HUF (2) → `"1500"`. Refused when it cannot be sent
/// exactly (a HUF amount with fillér).
pub fn to_paypal_value(
    amount_minor: i64,
    currency: &str,
    exponent: u8,
) -> Result<String, ProviderError> {
    let bad = |why: String| {
        ProviderError::new(
            ProviderErrorKind::InvalidRequest,
            format!(
                "Cannot send {} {currency} to PayPal: {why}.",
                switchboard_core::money::decimal_string(amount_minor, exponent)
            ),
        )
    };
    let parsed = Currency::parse(currency).map_err(|e| bad(e.to_string()))?;
    let places = paypal_decimals(parsed);
    let value = if exponent >= places {
        let factor = 10i64
            .checked_pow(u32::from(exponent - places))
            .ok_or_else(|| bad("too many decimals".into()))?;
        if amount_minor % factor != 0 {
            return Err(bad(format!(
                "PayPal takes {currency} with {places} decimal(s)"
            )));
        }
        amount_minor / factor
    } else {
        10i64
            .checked_pow(u32::from(places - exponent))
            .and_then(|f| amount_minor.checked_mul(f))
            .ok_or_else(|| bad("too large".into()))?
    };
    Ok(switchboard_core::money::decimal_string(value, places))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(c: &str) -> Currency {
        Currency::parse(c).unwrap()
    }

    #[test]
    fn values_are_read_exactly_with_the_currencys_decimals() {
        assert_eq!(parse_value("10.50", cur("USD")), Ok(1050));
        assert_eq!(parse_value("-1.23", cur("EUR")), Ok(-123));
        assert_eq!(parse_value("1000", cur("JPY")), Ok(1000));
        assert_eq!(parse_value(".5", cur("USD")), Ok(50));
        assert_eq!(parse_value("7", cur("USD")), Ok(700));
        assert_eq!(parse_value("-0.01", cur("GBP")), Ok(-1));
        let jpy = parse_value("1000.5", cur("JPY")).unwrap_err();
        assert!(jpy.contains("PayPal uses 0 for JPY"), "{jpy}");
        let usd = parse_value("10.505", cur("USD")).unwrap_err();
        assert!(usd.contains("3 decimal(s)"), "{usd}");
        for bad in [
            "",
            "-",
            ".",
            "1.",
            "1,50",
            "1e3",
            "--1",
            "abc",
            "99999999999999999999",
        ] {
            assert!(parse_value(bad, cur("USD")).is_err(), "{bad}");
        }
    }

    #[test]
    fn stored_amounts_are_iso_minor_units() {
        assert_eq!(stored(&[1000, -40], cur("JPY")), (vec![1000, -40], 0));
        assert_eq!(stored(&[1500], cur("HUF")), (vec![150_000], 2));
        assert_eq!(stored(&[1050], cur("USD")), (vec![1050], 2));
    }

    #[test]
    fn our_amounts_become_paypal_values() {
        assert_eq!(to_paypal_value(1200, "EUR", 2).unwrap(), "12.00");
        assert_eq!(to_paypal_value(5, "USD", 2).unwrap(), "0.05");
        assert_eq!(to_paypal_value(1500, "JPY", 0).unwrap(), "1500");
        assert_eq!(to_paypal_value(150_000, "HUF", 2).unwrap(), "1500");
        assert_eq!(to_paypal_value(15, "EUR", 1).unwrap(), "1.50");
        let err = to_paypal_value(150_050, "HUF", 2).unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::InvalidRequest);
        assert!(
            err.message.contains("HUF with 0 decimal"),
            "{}",
            err.message
        );
        assert!(to_paypal_value(1, "EURO", 2).is_err());
    }
}
