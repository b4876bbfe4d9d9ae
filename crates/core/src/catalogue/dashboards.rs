//! Where a payment lives in its provider's own dashboard, so the detail can link to it. Data,
//! one line per provider; `{id}` is the provider's id of the payment.

/// (provider, live address, test/sandbox address when the provider has a separate one).
const PAYMENT_PAGES: &[(&str, &str, Option<&str>)] = &[
    // https://docs.stripe.com/dashboard/basics — a charge opens at /payments/{ch_…}.
    (
        "stripe",
        "https://dashboard.stripe.com/payments/{id}",
        Some("https://dashboard.stripe.com/test/payments/{id}"),
    ),
    // Square Dashboard → Transactions; a payment opens by its id.
    (
        "square",
        "https://app.squareup.com/dashboard/sales/transactions/{id}",
        Some("https://app.squareupsandbox.com/dashboard/sales/transactions/{id}"),
    ),
    // PayPal activity: a transaction opens by its transaction id.
    (
        "paypal",
        "https://www.paypal.com/activity/payment/{id}",
        Some("https://www.sandbox.paypal.com/activity/payment/{id}"),
    ),
];

/// The payment's page in its provider's dashboard; `test` for test-mode or sandbox accounts.
pub fn payment_url(provider: &str, external_id: &str, test: bool) -> Option<String> {
    let (_, live, sandbox) = PAYMENT_PAGES.iter().find(|(p, _, _)| *p == provider)?;
    let template = if test { sandbox.unwrap_or(live) } else { live };
    // Provider ids are URL-safe (letters, digits, `_`, `-`); anything else is not linked.
    external_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        .then(|| template.replace("{id}", external_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_by_provider_and_mode() {
        assert_eq!(
            payment_url("stripe", "ch_1", true).as_deref(),
            Some("https://dashboard.stripe.com/test/payments/ch_1")
        );
        assert_eq!(
            payment_url("paypal", "5O190127TN364715T", false).as_deref(),
            Some("https://www.paypal.com/activity/payment/5O190127TN364715T")
        );
        assert_eq!(payment_url("xero", "x", false), None);
        assert_eq!(payment_url("stripe", "ch_1/../x", false), None);
    }
}
