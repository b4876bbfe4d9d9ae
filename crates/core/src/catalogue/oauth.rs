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
    authorize_params: &[],
    // Xero rejects 127.0.0.1 and needs the exact URI (host and port) registered.
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::None,
    token_body: TokenBody::Form,
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
    ],
};

pub static QUICKBOOKS: OAuthInfo = OAuthInfo {
    authorize_url: "https://appcenter.intuit.com/connect/oauth2",
    token_url: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    revoke_url: Some("https://developer.api.intuit.com/v2/oauth2/tokens/revoke"),
    revoke_style: RevokeStyle::IntuitJson,
    scopes: &["com.intuit.quickbooks.accounting"],
    authorize_params: &[],
    // Development keys accept http://localhost; production apps need an HTTPS redirect (the
    // auth relay's).
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &["realmId"],
    client_auth: ClientAuth::SecretBasic,
    token_body: TokenBody::Form,
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
        // Apps in "testing" publishing status get refresh tokens that lapse after 7 days.
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
    revoke_style: RevokeStyle::SquareClientHeader,
    scopes: &[
        "MERCHANT_PROFILE_READ",
        "PAYMENTS_READ",
        "PAYMENTS_WRITE",
        "CUSTOMERS_READ",
        "BANK_ACCOUNTS_READ",
    ],
    authorize_params: &[],
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::None,
    token_body: TokenBody::Json,
    tokens: TokenLifetimes {
        // PKCE access tokens last 24 hours; refresh tokens are single-use and last 90 days.
        access_token_secs: 24 * 60 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        refresh_lapses_unused_days: Some(90),
        consent_expires_days: None,
    },
    needs_client_secret: false,
    consent_note: "Your browser opens Square's sign-in page. Square asks you to allow \
        Switchboard to read your business profile, payments, customers and payouts, and to \
        create refunds and payment links for you.",
    docs: &[
        "https://developer.squareup.com/docs/oauth-api/overview",
        "https://developer.squareup.com/docs/oauth-api/refresh-revoke-limit-scope",
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
    authorize_params: &[],
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &["businessId"],
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    tokens: TokenLifetimes {
        access_token_secs: 20 * 60,
        refresh_rotates: true,
        previous_refresh_grace_secs: 0,
        refresh_lapses_unused_days: None,
        // Consent is renewed yearly.
        consent_expires_days: Some(365),
    },
    needs_client_secret: true,
    consent_note: "Your browser opens MYOB's sign-in page. MYOB asks you to pick the company \
        file and to allow Switchboard to read and write its ledger, banking and sales, so \
        payments and fees can be posted. MYOB asks again once a year.",
    docs: &["https://developer.myob.com/api/myob-business-api/api-overview/authentication/"],
};

pub static MAUTIC: OAuthInfo = OAuthInfo {
    // On the customer's own Mautic: these are paths on its URL (the connection's API base).
    authorize_url: "/oauth/v2/authorize",
    token_url: "/oauth/v2/token",
    revoke_url: None,
    revoke_style: RevokeStyle::NotOffered,
    scopes: &[],
    authorize_params: &[],
    redirect: LoopbackRedirect {
        host: "localhost",
        port: Some(53682),
        path: CALLBACK,
    },
    redirect_params: &[],
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
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
    docs: &["https://developer.mautic.org/#authorization"],
};
