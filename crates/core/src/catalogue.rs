//! The provider catalogue: what the app knows about each provider, as data.
//! Adapters and the UI read it instead of carrying their own constants.

pub mod credentials;
pub mod dashboards;
mod oauth;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use credentials::{CredentialField, FieldKind};
pub use oauth::{
    ClientAuth, LoopbackRedirect, OAuthInfo, Param, RevokeStyle, ScopeGrant, TokenBody,
    TokenLifetimes,
};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RateLimits {
    pub per_second: Option<u32>,
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
    pub concurrent: Option<u32>,
}

impl RateLimits {
    /// No limit of any kind.
    pub const NONE: RateLimits = NO_LIMITS;

    pub fn is_unlimited(&self) -> bool {
        *self == NO_LIMITS
    }
}

/// When a provider's daily budget (`per_day`) starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DailyReset {
    /// A calendar day that starts at 00:00 UTC.
    UtcMidnight,
    /// Any 24 hours in a row (the requests of the last 24 h count). Also the safe choice when
    /// a provider does not say: a budget kept over every 24 h is kept over every calendar day.
    #[serde(rename = "rolling_24h")]
    Rolling24h,
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
    /// How `per_day` resets (only meaningful where there is one).
    pub daily_reset: DailyReset,
    /// Whether the app can connect it yet; the UI shows the rest as "coming".
    pub available: bool,
    /// Whether Switchboard pulls data from it yet (it has a pull adapter): only these are
    /// synced by "sync all" and scheduled; the others connect but have nothing to sync.
    pub pulls: bool,
    /// OAuth facts for providers that connect through OAuth.
    pub oauth: Option<&'static OAuthInfo>,
    /// For providers connected by credentials, the connect dialog's paragraph: what the user
    /// fetches where, which permissions the key needs and why. (OAuth providers have their
    /// `consent_note`.)
    pub connect_note: &'static str,
    /// The credentials form of providers connected by key or account credentials; empty for
    /// OAuth-only providers (Mautic has both: the browser sign-in, or basic auth where its
    /// instance enables it).
    pub credential_fields: &'static [CredentialField],
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
        // https://docs.stripe.com/rate-limits: 100 operations per second in live mode, 25 in
        // test mode (an `sk_test_`/`rk_test_` key), per account. No daily budget.
        rate_limits: RateLimits {
            per_second: Some(100),
            ..NO_LIMITS
        },
        test_rate_limits: Some(RateLimits {
            per_second: Some(25),
            ..NO_LIMITS
        }),
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: true,
        oauth: None,
        connect_note: "Switchboard reads your payments, refunds, fees and payouts, and issues the \
            refunds you ask for. Create a restricted key in the Stripe Dashboard (Developers → \
            API keys → Create restricted key) with Read access to Charges, Refunds, Balance \
            transactions, Payouts and Account, and Write access to Refunds; a secret key works \
            too. The key is checked with Stripe once, stored encrypted on this computer, and \
            never shown again.",
        credential_fields: credentials::STRIPE,
    },
    ProviderInfo {
        key: "paypal",
        display_name: "PayPal",
        category: Category::Payments,
        auth_style: AuthStyle::ClientCredentials,
        api_base: "https://api-m.paypal.com",
        docs_url: "https://developer.paypal.com/api/rest/",
        // https://developer.paypal.com/api/rest/reference/rate-limiting: PayPal does not publish
        // a rate limit policy (it answers 429 RATE_LIMIT_REACHED to traffic it finds abusive).
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: true,
        oauth: None,
        connect_note: "Switchboard signs in as your REST app with its client ID and secret \
            (PayPal's client credentials), to read transactions and create payment requests and \
            refunds. Create or open the app in the PayPal developer dashboard (Apps & \
            Credentials), under Live for your real account or Sandbox for testing. The secret is \
            checked with PayPal, stored encrypted on this computer, and never shown again.",
        credential_fields: credentials::PAYPAL,
    },
    ProviderInfo {
        key: "square",
        display_name: "Square",
        category: Category::Payments,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://connect.squareup.com",
        docs_url: "https://developer.squareup.com/reference/square",
        // Square rate-limits (429 RATE_LIMITED) but does not document the limits
        // (developer.squareup.com forums, answered by Square staff).
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: true,
        oauth: Some(&oauth::SQUARE),
        connect_note: "",
        credential_fields: &[],
    },
    ProviderInfo {
        key: "xero",
        display_name: "Xero",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://api.xero.com/api.xro/2.0",
        docs_url: "https://developer.xero.com/documentation/api/accounting/overview",
        // https://developer.xero.com/documentation/guides/oauth2/limits/: per organisation
        // (tenant), 5 calls in progress at once, 60 per minute, 5,000 per day over a rolling
        // 24 hours (plus 10,000 per minute per app across all tenants).
        rate_limits: RateLimits {
            per_second: None,
            per_minute: Some(60),
            per_day: Some(5000),
            concurrent: Some(5),
        },
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: Some(&oauth::XERO),
        connect_note: "",
        credential_fields: &[],
    },
    ProviderInfo {
        key: "quickbooks",
        display_name: "QuickBooks Online",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://quickbooks.api.intuit.com",
        docs_url: "https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account",
        // https://blogs.intuit.com/2016/08/08/idg-concurrent-api-use-changes-coming-soon/ (and the
        // QBO API docs): 500 requests per minute per realm (company), at most 10 concurrent
        // requests per app and realm. No daily budget.
        rate_limits: RateLimits {
            per_second: None,
            per_minute: Some(500),
            per_day: None,
            concurrent: Some(10),
        },
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: Some(&oauth::QUICKBOOKS),
        connect_note: "",
        credential_fields: &[],
    },
    ProviderInfo {
        key: "myob",
        display_name: "MYOB",
        category: Category::Accounting,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://api.myob.com/accountright",
        docs_url: "https://developer.myob.com/api/myob-business-api/v2/",
        // MYOB's developer docs (developer.myob.com, API overview): 8 calls per second and
        // 1,000,000 per day per API key. The reset of the daily count is
        // not documented, so the budget is kept over a rolling 24 hours (the safe reading).
        rate_limits: RateLimits {
            per_second: Some(8),
            per_minute: None,
            per_day: Some(1_000_000),
            concurrent: None,
        },
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: Some(&oauth::MYOB),
        connect_note: "",
        credential_fields: &[],
    },
    ProviderInfo {
        key: "sendgrid",
        display_name: "SendGrid",
        category: Category::Messaging,
        auth_style: AuthStyle::ApiKey,
        api_base: "https://api.sendgrid.com",
        docs_url: "https://www.twilio.com/docs/sendgrid/api-reference",
        // https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits:
        // limits vary by endpoint and plan and are announced only at run time
        // (X-RateLimit-Limit/-Remaining/-Reset); no fixed numbers are published.
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: None,
        connect_note: "Switchboard sends email through SendGrid. Create an API key (Settings → API \
            Keys) with Mail Send access, plus read access to your user account so the connection \
            can show which account it is. The key is checked with SendGrid, stored encrypted on \
            this computer, and never shown again.",
        credential_fields: credentials::SENDGRID,
    },
    ProviderInfo {
        key: "smtp",
        display_name: "SMTP email",
        category: Category::Messaging,
        auth_style: AuthStyle::Basic,
        api_base: "",
        docs_url: "https://datatracker.ietf.org/doc/html/rfc5321",
        // Set by each mail server; nothing general to enforce.
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: None,
        connect_note: "Switchboard sends email through your mail server, as the user you give. It \
            checks the login once (with STARTTLS or TLS) without sending anything; the password \
            is stored encrypted on this computer and never shown again.",
        credential_fields: credentials::SMTP,
    },
    ProviderInfo {
        key: "twilio",
        display_name: "Twilio SMS & WhatsApp",
        category: Category::Messaging,
        auth_style: AuthStyle::Basic,
        api_base: "https://api.twilio.com",
        docs_url: "https://www.twilio.com/docs/messaging/api",
        // https://www.twilio.com/docs/api/errors/20429: the REST API limits concurrent requests
        // per account (HTTP 429, error 20429); Twilio's support pages give 100 as the default.
        // Message throughput (per sender, per second) is queued by Twilio, not refused.
        rate_limits: RateLimits {
            per_second: None,
            per_minute: None,
            per_day: None,
            concurrent: Some(100),
        },
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: None,
        connect_note: "Switchboard sends SMS and WhatsApp messages through your Twilio account. \
            Use your Account SID with its Auth Token, or better, an API key (Console → Account → \
            API keys & tokens) that you can revoke on its own. The credentials are checked with \
            Twilio, stored encrypted on this computer, and never shown again.",
        credential_fields: credentials::TWILIO,
    },
    ProviderInfo {
        key: "mautic",
        display_name: "Mautic",
        category: Category::Marketing,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "",
        docs_url: "https://developer.mautic.org/",
        // Self-hosted: the limits are whatever the instance's operator configures.
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: Some(&oauth::MAUTIC),
        connect_note: "Where your Mautic allows it (Settings → Configuration → API Settings → \
            Enable HTTP basic auth), Switchboard can use a Mautic user's name and password \
            instead of the browser sign-in, to keep contacts and segments in step. The password \
            is checked with your Mautic, stored encrypted on this computer, and never shown \
            again.",
        credential_fields: credentials::MAUTIC,
    },
    ProviderInfo {
        key: "billionmail",
        display_name: "BillionMail",
        category: Category::Marketing,
        auth_style: AuthStyle::ApiKey,
        api_base: "",
        docs_url: "https://github.com/aaPanel/BillionMail",
        // Self-hosted: no published API limits.
        rate_limits: NO_LIMITS,
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: None,
        connect_note: "Switchboard sends email through your own BillionMail server with an API key \
            (BillionMail → Settings → API). The key is checked against your server without \
            sending anything, stored encrypted on this computer, and never shown again.",
        credential_fields: credentials::BILLIONMAIL,
    },
    ProviderInfo {
        key: "google_calendar",
        display_name: "Google Calendar",
        category: Category::Calendar,
        auth_style: AuthStyle::OAuthPkce,
        api_base: "https://www.googleapis.com/calendar/v3",
        docs_url: "https://developers.google.com/calendar/api/v3/reference",
        // https://developers.google.com/workspace/calendar/api/guides/quota: 600 requests per
        // minute per user per project (sliding window), 10,000 per minute per project.
        rate_limits: RateLimits {
            per_second: None,
            per_minute: Some(600),
            per_day: None,
            concurrent: None,
        },
        test_rate_limits: None,
        daily_reset: DailyReset::Rolling24h,
        available: true,
        pulls: false,
        oauth: Some(&oauth::GOOGLE),
        connect_note: "",
        credential_fields: &[],
    },
];

pub fn provider(key: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.key == key)
}

impl ProviderInfo {
    /// The documented budget of a connection: test-mode limits where the provider has them and
    /// the connection uses test credentials, live-mode limits otherwise.
    pub fn limits_for(&self, test_mode: bool) -> RateLimits {
        match (test_mode, self.test_rate_limits) {
            (true, Some(test)) => test,
            _ => self.rate_limits,
        }
    }
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

    #[test]
    fn documented_budgets_are_data() {
        let xero = provider("xero").unwrap();
        assert_eq!(
            xero.rate_limits,
            RateLimits {
                per_second: None,
                per_minute: Some(60),
                per_day: Some(5000),
                concurrent: Some(5),
            }
        );
        assert_eq!(xero.daily_reset, DailyReset::Rolling24h);
        let stripe = provider("stripe").unwrap();
        assert_eq!(stripe.rate_limits.per_second, Some(100));
        assert_eq!(stripe.test_rate_limits.unwrap().per_second, Some(25));
        let qbo = provider("quickbooks").unwrap();
        assert_eq!(qbo.rate_limits.per_minute, Some(500));
        assert_eq!(qbo.rate_limits.concurrent, Some(10));
        assert!(provider("paypal").unwrap().rate_limits.is_unlimited());
    }
}
