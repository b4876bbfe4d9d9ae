//! Where a customer lands after paying a payment request: one workspace setting for every
//! provider (Stripe Checkout's `success_url`, and whichever return URL the others take), so a
//! business sends its customers to its own "thank you" page instead of the provider's.

use crate::sync::blocking;
use crate::workspace::Workspace;
use crate::{Result, errors};
use switchboard_core::views::PaymentRequestSettingsView;
use switchboard_store::settings;

/// Longer than any real page address, well under the providers' limits (Stripe: 5,000).
const MAX_LEN: usize = 2_000;

/// The URL as it will be stored, or why it cannot be used. A customer's browser goes there, so
/// it must be absolute and HTTPS (plain HTTP only for a page on this computer, for testing).
pub(crate) fn check(input: &str) -> Result<String> {
    let text = input.trim();
    if text.len() > MAX_LEN {
        return Err(errors::invalid(format!(
            "That address is {} characters long; use one under {MAX_LEN}.",
            text.len()
        )));
    }
    let url = reqwest::Url::parse(text).map_err(|e| {
        errors::invalid(format!(
            "“{text}” is not a web address ({e}). Give the full address of your page, such as https://example.com/thanks."
        ))
    })?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => {
            return Err(errors::invalid(
                "Customers are sent there from the provider's payment page, so it must be an https:// address.",
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(errors::invalid("That address names no website."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(errors::invalid(
            "That address holds a user name or password; customers would see it. Remove it.",
        ));
    }
    Ok(url.to_string())
}

impl Workspace {
    pub async fn payment_request_settings(&self) -> Result<PaymentRequestSettingsView> {
        let store = self.store.clone();
        let return_url = blocking(&store, |s| {
            settings::get(&s.conn(), settings::PAYMENT_RETURN_URL)
        })
        .await?;
        Ok(PaymentRequestSettingsView { return_url })
    }

    /// Sets the page customers land on after paying (checked first), or back to the providers'
    /// own confirmation with `None` or an empty string. Applies to requests made from now on.
    pub async fn set_payment_return_url(
        &self,
        url: Option<&str>,
    ) -> Result<PaymentRequestSettingsView> {
        let checked = match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Some(check(u)?),
            None => None,
        };
        let store = self.store.clone();
        blocking(&store, move |s| {
            let conn = s.conn();
            match &checked {
                Some(u) => settings::set(&conn, settings::PAYMENT_RETURN_URL, u)?,
                None => settings::remove(&conn, settings::PAYMENT_RETURN_URL)?,
            }
            Ok(())
        })
        .await?;
        self.payment_request_settings().await
    }

    /// The setting, for a payment request about to be queued.
    pub(crate) async fn payment_return_url(&self) -> Result<Option<String>> {
        Ok(self.payment_request_settings().await?.return_url)
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn only_absolute_https_addresses_without_credentials() {
        assert_eq!(
            check(" https://shop.example.com/thanks?from=switchboard ").unwrap(),
            "https://shop.example.com/thanks?from=switchboard"
        );
        assert_eq!(
            check("http://127.0.0.1:8080/done").unwrap(),
            "http://127.0.0.1:8080/done"
        );
        for bad in [
            "shop.example.com/thanks",
            "http://shop.example.com/thanks",
            "ftp://shop.example.com/",
            "javascript:alert(1)",
            "https://user:pw@shop.example.com/",
        ] {
            assert!(check(bad).is_err(), "{bad} was accepted");
        }
        assert!(check(&format!("https://e.com/{}", "a".repeat(2_000))).is_err());
    }
}
