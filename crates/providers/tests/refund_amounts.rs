//! Refund amounts go to Stripe in Stripe's units: our minor units shifted up by the difference
//! of exponents (ISK is stored in krónur, sent in hundredths), never rounded.

use switchboard_providers::stripe::to_stripe_amount;

#[test]
fn our_minor_units_become_stripes_exactly() {
    assert_eq!(to_stripe_amount(1234, "EUR", 2).unwrap(), 1234);
    assert_eq!(to_stripe_amount(1234, "JPY", 0).unwrap(), 1234);
    assert_eq!(to_stripe_amount(1500, "KWD", 3).unwrap(), 1500);
    assert_eq!(to_stripe_amount(123, "ISK", 0).unwrap(), 12_300);
    // An amount kept in Stripe's units already (exponent 2 for ISK) is not shifted again.
    assert_eq!(to_stripe_amount(12_300, "ISK", 2).unwrap(), 12_300);
    // More decimals than Stripe uses, overflow and unknown currencies are refused.
    assert!(to_stripe_amount(1, "JPY", 2).is_err());
    assert!(to_stripe_amount(i64::MAX, "ISK", 0).is_err());
    assert!(to_stripe_amount(1, "XX", 2).is_err());
}
