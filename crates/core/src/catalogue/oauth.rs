//! How each OAuth provider is reached and what it does, as documented: endpoints, least scopes,
//! the loopback redirect it accepts, how the client authenticates, and how its tokens live.
//! The OAuth client (`switchboard_providers::oauth`) and the connect dialog read this; nothing
//! else carries these facts. Each entry names the documentation its facts come from.

use serde::Serialize;
use ts_rs::TS;

/// One provider's OAuth 2.0 facts (authorization code with PKCE S256, RFC 6749 / 7636 / 8252).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct OAuthInfo {
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    /// Where a token is revoked on disconnect; `None` when the provider offers no revocation.
    pub revoke_url: Option<&'static str>,
    pub revoke_style: RevokeStyle,
    /// The least scopes for what the app does today; features that need more ask for an
    /// incremental grant.
    pub scopes: &'static [&'static str],
    /// Scopes asked for later, when a feature first needs them (an incremental grant), each
    /// with the reason the user is shown.
    pub incremental: &'static [ScopeGrant],
    /// Extra authorize parameters (Google's `access_type=offline`).
    pub authorize_params: &'static [Param],
    pub redirect: LoopbackRedirect,
    /// Redirect query parameters kept besides `code` and `state` (QuickBooks' `realmId`).
    pub redirect_params: &'static [&'static str],
    pub client_auth: ClientAuth,
    /// How the token endpoint's request body is encoded.
    pub token_body: TokenBody,
    pub tokens: TokenLifetimes,
    /// Whether the provider needs a client secret even with PKCE (then the app goes through
    /// the auth relay unless the user configured their own secret).
    pub needs_client_secret: bool,
    /// One paragraph for the connect dialog: what the user will see, what is asked, and why.
    pub consent_note: &'static str,
    /// The documentation the facts above come from.
    pub docs: &'static [&'static str],
}

/// More scopes for one feature, asked for when the feature is first used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct ScopeGrant {
    /// A stable name (`post_to_ledger`), used by the CLI and the UI.
    pub feature: &'static str,
    pub scopes: &'static [&'static str],
    /// One sentence for the user: what the feature does with these permissions.
    pub why: &'static str,
}

/// A name and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Param {
    pub name: &'static str,
    pub value: &'static str,
}

/// The loopback redirect a provider accepts (RFC 8252 section 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct LoopbackRedirect {
    /// `localhost` (listen on both 127.0.0.1 and ::1) or `127.0.0.1`.
    pub host: &'static str,
    /// A port registered with the provider, or `None` when any port is accepted.
    pub port: Option<u16>,
    pub path: &'static str,
}

/// How the app authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, PKCE instead of a secret.
    None,
    /// `client_id` and `client_secret` in the body.
    SecretPost,
    /// HTTP Basic with the client id and secret.
    SecretBasic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenBody {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    Form,
    /// JSON (Square).
    Json,
}

/// How a token is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RevokeStyle {
    /// RFC 7009: a form with `token` (and the client's credentials as for the token endpoint).
    Rfc7009,
    /// Square: JSON `{client_id, access_token}` with `Authorization: Client <secret>`.
    SquareClientHeader,
    /// Intuit: JSON `{token}` with HTTP Basic client credentials.
    IntuitJson,
    /// No revocation endpoint.
    NotOffered,
}

/// How long tokens live and how refresh tokens behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TokenLifetimes {
    /// The documented access-token lifetime, used when an answer omits it.
    pub access_token_secs: u32,
    /// Whether a refresh returns a new refresh token that replaces the old one.
    pub refresh_rotates: bool,
    /// How long the previous refresh token keeps working after a rotation (Xero: 30 min).
    pub previous_refresh_grace_secs: u32,
    /// A refresh token unused for this many days lapses: the app refreshes before that.
    pub refresh_lapses_unused_days: Option<u32>,
    /// A lapse the app cannot prevent (MYOB's yearly consent renewal), in days since consent.
    pub consent_expires_days: Option<u32>,
}

/// The loopback redirect path every provider is registered with.
const CALLBACK: &str = "/oauth/callback";

pub static XERO: OAuthInfo = OAuthInfo {
    authorize_url: "https://login.xero.com/identity/connect/authorize",
    token_url: "https://identity.xero.com/connect/token",
    revoke_url: Some("https://identity.xero.com/connect/revocation"),
    revoke_style: RevokeStyle::Rfc7009,
    // Granular scopes (apps created since 2 March 2026 cannot ask for the broad
    // `accounting.transactions`); bookkeeping asks for invoices/payments when it needs them.
    scopes: &[
        "openid",
        "profile",
        "email",
        "offline_access",
        "accounting.settings.read",
    ],
    // Granular scopes (developer.xero.com/documentation/guides/oauth2/scopes): posting
    // payments, fees and refunds writes invoices, payments, bank transactions and contacts.
    incremental: &[ScopeGrant {
        feature: "post_to_ledger",
        scopes: &[
            "accounting.invoices",
            "accounting.payments",
            "accounting.banktransactions",
            "accounting.contacts",
        ],
        why: "To post payments, fees and refunds to Xero, Switchboard needs to create \
            invoices, payments, bank transactions and contacts in the organisation.",
    }],
    authorize_params: &[],
    // Xero takes plain http only for `localhost` (every other redirect must be https) and
    // matches the registered URI exactly, port included: the port must be the registered one.
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::None,
    token_body: TokenBody::Form,
    // FAQ: access tokens last 30 minutes; a refresh returns a new refresh token, the old one
    // can be retried for 30 minutes; unused refresh tokens expire after 60 days.
    tokens: TokenLifetimes {
        access_token_secs: 30 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 30 * 60,
        refresh_lapses_unused_days: Some(60),
        consent_expires_days: None,
    },
    needs_client_secret: false,
    consent_note: "Your browser opens Xero's sign-in page. Xero asks you to allow Switchboard \
        to read your organisation's settings (its name and currency) and to stay connected \
        while you are away (offline access), then to pick the organisation. Switchboard asks \
        for permission to write invoices and payments only when you first sync to Xero.",
    docs: &[
        "https://developer.xero.com/documentation/guides/oauth2/pkce-flow",
        "https://developer.xero.com/documentation/guides/oauth2/auth-flow",
        "https://developer.xero.com/documentation/guides/oauth2/scopes",
        "https://developer.xero.com/documentation/guides/oauth2/token-types",
        "https://developer.xero.com/faq/oauth2",
        "https://developer.xero.com/faq/granular-scopes",
    ],
};

pub static QUICKBOOKS: OAuthInfo = OAuthInfo {
    authorize_url: "https://appcenter.intuit.com/connect/oauth2",
    token_url: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    revoke_url: Some("https://developer.api.intuit.com/v2/oauth2/tokens/revoke"),
    revoke_style: RevokeStyle::IntuitJson,
    scopes: &["com.intuit.quickbooks.accounting"],
    // One scope covers all accounting data: nothing to ask for later.
    incremental: &[],
    authorize_params: &[],
    // Development (sandbox) keys accept http://localhost; production redirects must be https
    // and may not be IP addresses (so production goes through the auth relay's).
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &["realmId"],
    client_auth: ClientAuth::SecretBasic,
    token_body: TokenBody::Form,
    // Access tokens last one hour; refresh tokens 100 days, rolling (each refresh extends it),
    // and the value changes about every 24 hours: always keep the latest. Since the 2025
    // policy change a refresh token also has a hard limit of five years from consent.
    tokens: TokenLifetimes {
        access_token_secs: 60 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        refresh_lapses_unused_days: Some(100),
        consent_expires_days: Some(5 * 365),
    },
    needs_client_secret: true,
    consent_note: "Your browser opens Intuit's sign-in page. Intuit asks you to pick the \
        QuickBooks company and to allow Switchboard to use its accounting data, so that \
        payments, fees and refunds can be posted to it.",
    docs: &[
        "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0",
        "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq",
        "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/set-redirect-uri",
        "https://blogs.intuit.com/2025/11/12/important-changes-to-refresh-token-policy",
    ],
};

pub static GOOGLE: OAuthInfo = OAuthInfo {
    authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
    token_url: "https://oauth2.googleapis.com/token",
    revoke_url: Some("https://oauth2.googleapis.com/revoke"),
    revoke_style: RevokeStyle::Rfc7009,
    scopes: &[
        "openid",
        "email",
        "https://www.googleapis.com/auth/calendar.events",
    ],
    // A refresh token is only issued for offline access; `consent` makes a re-grant issue one.
    incremental: &[],
    authorize_params: &[
        Param {
            name: "access_type",
            value: "offline",
        },
        Param {
            name: "prompt",
            value: "consent",
        },
    ],
    // Google accepts any loopback port for desktop clients.
    redirect: LoopbackRedirect {
        host: "127.0.0.1",
        port: None,
        path: CALLBACK,
    },
    redirect_params: &[],
    // Desktop clients have a secret Google says is not treated as one.
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    tokens: TokenLifetimes {
        access_token_secs: 3599,
        refresh_rotates: false,
        previous_refresh_grace_secs: 0,
        // A refresh token unused for six months stops working. Apps in "testing" publishing
        // status get refresh tokens that lapse after 7 days whatever their use.
        refresh_lapses_unused_days: Some(180),
        consent_expires_days: None,
    },
    needs_client_secret: false,
    consent_note: "Your browser opens Google's sign-in page. Google asks you to allow \
        Switchboard to see your email address (to show which account is connected) and to \
        see and edit events on your calendars, so bookings can be added and kept in step.",
    docs: &[
        "https://developers.google.com/identity/protocols/oauth2/native-app",
        "https://developers.google.com/identity/protocols/oauth2#expiration",
    ],
};

pub static SQUARE: OAuthInfo = OAuthInfo {
    authorize_url: "https://connect.squareup.com/oauth2/authorize",
    token_url: "https://connect.squareup.com/oauth2/token",
    revoke_url: Some("https://connect.squareup.com/oauth2/revoke"),
    // Revoking needs `Authorization: Client <application secret>`, which a PKCE client does not
    // hold: without a configured secret the user removes the app in Square instead.
    revoke_style: RevokeStyle::SquareClientHeader,
    // Payouts are read with PAYOUTS_READ (the Payouts API; BANK_ACCOUNTS_READ only covers the
    // bank accounts list); disputes with DISPUTES_READ, subscriptions with SUBSCRIPTIONS_READ
    // (the streams the sync reads), ITEMS_READ for the catalog's subscription plans (their
    // name, price and cadence). Payment links (ORDERS_WRITE) and cancelling subscriptions
    // (SUBSCRIPTIONS_WRITE) are asked for when first used.
    // https://developer.squareup.com/docs/oauth-api/square-permissions
    scopes: &[
        "MERCHANT_PROFILE_READ",
        "PAYMENTS_READ",
        "PAYMENTS_WRITE",
        "CUSTOMERS_READ",
        "PAYOUTS_READ",
        "DISPUTES_READ",
        "SUBSCRIPTIONS_READ",
        "ITEMS_READ",
    ],
    incremental: &[
        ScopeGrant {
            feature: "payment_links",
            scopes: &["ORDERS_WRITE", "ORDERS_READ"],
            why: "To create payment links for quotes and deposits, Switchboard needs to create \
                orders in your Square account.",
        },
        ScopeGrant {
            feature: "cancel_subscriptions",
            scopes: &["SUBSCRIPTIONS_WRITE"],
            why: "To stop a subscription at the end of its period, Switchboard needs to change \
                subscriptions in your Square account.",
        },
    ],
    authorize_params: &[],
    // Square requires an https redirect except in its Sandbox, which accepts http://localhost.
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::None,
    token_body: TokenBody::Json,
    tokens: TokenLifetimes {
        // Access tokens last 30 days (24 hours only when asked for `short_lived`). With PKCE
        // every refresh returns a new single-use refresh token that expires in 90 days.
        access_token_secs: 30 * 24 * 60 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        refresh_lapses_unused_days: Some(90),
        consent_expires_days: None,
    },
    needs_client_secret: false,
    consent_note: "Your browser opens Square's sign-in page. Square asks you to allow \
        Switchboard to read your business profile, payments, customers and payouts, and to \
        create refunds for you. Switchboard asks again before it first creates a payment link.",
    docs: &[
        "https://developer.squareup.com/docs/oauth-api/overview",
        "https://developer.squareup.com/docs/oauth-api/refresh-revoke-limit-scope",
        "https://developer.squareup.com/docs/oauth-api/receive-and-manage-tokens",
        "https://developer.squareup.com/reference/square/objects/ObtainTokenResponse",
        "https://developer.squareup.com/reference/square/o-auth/revoke-token",
        "https://developer.squareup.com/reference/square/payouts-api/ListPayouts",
    ],
};

pub static MYOB: OAuthInfo = OAuthInfo {
    authorize_url: "https://secure.myob.com/oauth2/account/authorize",
    token_url: "https://secure.myob.com/oauth2/v1/authorize",
    revoke_url: None,
    revoke_style: RevokeStyle::NotOffered,
    scopes: &[
        "sme-company-file",
        "sme-general-ledger",
        "sme-banking",
        "sme-sales",
    ],
    // Keys created since 12 March 2025 learn the company file only from the redirect's
    // `businessId` (and `businessName`), which MYOB sends only with `prompt=consent`.
    incremental: &[],
    authorize_params: &[Param {
        name: "prompt",
        value: "consent",
    }],
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &["businessId", "businessName"],
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    tokens: TokenLifetimes {
        // Access tokens last 20 minutes (`expires_in` arrives as the string "1200").
        access_token_secs: 20 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        // No lapse of an unused refresh token is documented (none found; unconfirmed).
        refresh_lapses_unused_days: None,
        // An administrator of the company file renews the consent yearly.
        consent_expires_days: Some(365),
    },
    needs_client_secret: true,
    consent_note: "Your browser opens MYOB's sign-in page. MYOB asks you to pick the company \
        file and to allow Switchboard to read and write its ledger, banking and sales, so \
        payments and fees can be posted. MYOB asks again once a year.",
    docs: &[
        "https://developer.myob.com/api/myob-business-api/api-overview/authentication/",
        "https://developer.myob.com/api/myob-business-api/api-overview/granular_data_scopes",
        "https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025",
    ],
};

pub static MAUTIC: OAuthInfo = OAuthInfo {
    // On the customer's own Mautic: these are paths on its URL (the connection's API base).
    authorize_url: "/oauth/v2/authorize",
    token_url: "/oauth/v2/token",
    revoke_url: None,
    revoke_style: RevokeStyle::NotOffered,
    scopes: &[],
    // Mautic has no scopes: a grant acts as the user.
    incremental: &[],
    authorize_params: &[],
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    // Defaults of a Mautic instance (its operator can change both): access tokens last one
    // hour; each refresh returns a new refresh token, valid 14 days from its issue.
    tokens: TokenLifetimes {
        access_token_secs: 60 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        refresh_lapses_unused_days: Some(14),
        consent_expires_days: None,
    },
    needs_client_secret: true,
    consent_note: "Your browser opens your Mautic's sign-in page. Mautic asks you to allow \
        Switchboard to use its API as you, to keep contacts and segments in step.",
    docs: &[
        "https://devdocs.mautic.org/en/7.0/rest_api/authentication.html",
        "https://developer.mautic.org/#authorization",
    ],
};
