//! The provider catalogue: what the app knows about each provider, as data.
//! Adapters and the UI read it instead of carrying their own constants.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AuthStyle {
    /// A secret API key sent as a bearer token (Stripe, SendGrid).
    ApiKey,
    /// OAuth 2.0 authorization code with PKCE in the system browser.
    OAuthPkce,
    /// OAuth 2.0 client credentials (PayPal).
    ClientCredentials,
    /// Account SID and token, or user and password (Twilio, SMTP).
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Category {
    Payments,
    Accounting,
    Messaging,
    Marketing,
    Calendar,
}

/// Documented request budgets. `None` where the provider publishes no such limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct RateLimits {
    pub per_second: Option<u32>,
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
    pub concurrent: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ProviderInfo {
    /// Stable key used in the database, the CLI and the UI (`stripe`).
    pub key: &'static str,
    pub display_name: &'static str,
    pub category: Category,
    pub auth_style: AuthStyle,
    /// Default API base; every connection may override it.
    pub api_base: &'static str,
    pub docs_url: &'static str,
    /// Live-mode limits.
    pub rate_limits: RateLimits,
    /// Test-mode limits where they differ (Stripe).
    pub test_rate_limits: Option<RateLimits>,
    /// Whether the app can connect it yet; the UI shows the rest as "coming".
    pub available: bool,
}

const NO_LIMITS: RateLimits = RateLimits {
    per_second: None,
    per_minute: None,
    per_day: None,
    concurrent: None,
};

pub static PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        key: "stripe",
        display_name: "Stripe",
        category: Category::Payments,
        auth_style: AuthStyle::ApiKey,
        api_base: "https://api.stripe.com",
        docs_url: "https://docs.stripe.com/api",
        // https://docs.stripe.com/rate-limits: 100 operations/s live, 25 in test mode.
        rate_limits: RateLimits {
            per_second: Some(100),
            ..NO_LIMITS
        },
        test_rate_limits: Some(RateLimits {
            per_second: Some(25),
            ..NO_LIMITS
        }),
        available: true,
    },
    ProviderInfo {
        key: "paypal",
        display_name: "PayPal",
        category: Category::Payments,
        auth_style: AuthStyle::ClientCredentials,
        api_base: "https://api-m.paypal.com",
        docs_url: "https://developer.paypal.com/api/rest/",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "square",
        display_name: "Square",
        category: Category::Payments,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://connect.squareup.com",
        docs_url: "https://developer.squareup.com/reference/square",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "xero",
        display_name: "Xero",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://api.xero.com/api.xro/2.0",
        docs_url: "https://developer.xero.com/documentation/api/accounting/overview",
        // https://developer.xero.com/documentation/guides/oauth2/limits/
        rate_limits: RateLimits {
            per_second: None,
            per_minute: Some(60),
            per_day: Some(5000),
            concurrent: Some(5),
        },
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "quickbooks",
        display_name: "QuickBooks Online",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://quickbooks.api.intuit.com",
        docs_url: "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account",
        // 500 requests per minute per realm, 10 concurrent.
        rate_limits: RateLimits {
            per_second: None,
            per_minute: Some(500),
            per_day: None,
            concurrent: Some(10),
        },
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "myob",
        display_name: "MYOB",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://api.myob.com/accountright",
        docs_url: "https://developer.myob.com/api/myob-business-api/v2/",
        rate_limits: RateLimits {
            per_second: Some(8),
            per_minute: None,
            per_day: Some(1_000_000),
            concurrent: None,
        },
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "sendgrid",
        display_name: "SendGrid",
        category: Category::Messaging,
        auth_style: AuthStyle::ApiKey,
        api_base: "https://api.sendgrid.com",
        docs_url: "https://www.twilio.com/docs/sendgrid/api-reference",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "smtp",
        display_name: "SMTP email",
        category: Category::Messaging,
        auth_style: AuthStyle::Basic,
        api_base: "",
        docs_url: "https://datatracker.ietf.org/doc/html/rfc5321",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "twilio",
        display_name: "Twilio SMS & WhatsApp",
        category: Category::Messaging,
        auth_style: AuthStyle::Basic,
        api_base: "https://api.twilio.com",
        docs_url: "https://www.twilio.com/docs/messaging/api",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "mautic",
        display_name: "Mautic",
        category: Category::Marketing,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "",
        docs_url: "https://developer.mautic.org/",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "billionmail",
        display_name: "BillionMail",
        category: Category::Marketing,
        auth_style: AuthStyle::ApiKey,
        api_base: "",
        docs_url: "https://github.com/aaPanel/BillionMail",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
    ProviderInfo {
        key: "google_calendar",
        display_name: "Google Calendar",
        category: Category::Calendar,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://www.googleapis.com/calendar/v3",
        docs_url: "https://developers.google.com/calendar/api/v3/reference",
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        available: false,
    },
];

pub fn provider(key: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_findable() {
        let mut keys: Vec<_> = PROVIDERS.iter().map(|p| p.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), PROVIDERS.len());
        assert_eq!(provider("stripe").unwrap().display_name, "Stripe");
        assert!(provider("nope").is_none());
    }
}
