//! What each faked authorization server does, as data: one [`OAuthProfile`] per provider.
//!
//! Every profile starts with the facts it models and the documentation they come from. Where a
//! fact could not be confirmed, the comment says so and what the fake does instead. Where the
//! fake is stricter than the provider (PKCE required, `plain` refused everywhere), that is on
//! purpose: the app always sends S256, and a fake that accepted less would hide a regression.

use std::time::Duration;

use crate::seed::SeedRng;

const HOUR: Duration = Duration::from_secs(3600);

/// How the client authenticates to the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// A public client: `client_id` in the body (or Basic with an empty secret), PKCE instead of
    /// a secret. A secret sent anyway is ignored (there is none to check).
    Public,
    /// Public with PKCE, but a `client_secret` in the body, when sent, must be right (Square
    /// takes the code flow with a secret and the PKCE flow without one on the same endpoint).
    PublicOrSecret,
    /// `client_id` and `client_secret` in the body, or HTTP Basic (RFC 6749 section 2.3.1 says
    /// a server must support Basic).
    SecretPost,
    /// HTTP Basic only.
    SecretBasic,
}

/// How the token endpoint's request body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenBody {
    Form,
    Json,
}

/// How a token is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RevokeStyle {
    /// RFC 7009: a form with `token` (and `token_type_hint`).
    Rfc7009 {
        /// Whether the client must authenticate as at the token endpoint.
        client_auth: bool,
        /// Whether revoking an access token ends the whole grant (Google) or only that token.
        access_ends_grant: bool,
        /// Whether an unknown, expired or already revoked token is an error (Google: 400
        /// `invalid_token`) rather than RFC 7009's 200.
        unknown_is_error: bool,
    },
    /// Intuit: JSON `{"token": …}` with HTTP Basic client credentials; either token ends the grant.
    IntuitJson,
    /// Square: JSON `{client_id, access_token | merchant_id, revoke_only_access_token}` with
    /// `Authorization: Client <application secret>`; answers `{"success": true}`.
    SquareClient,
    /// No revocation endpoint.
    None,
}

/// How the access token's lifetime is written in a token answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// `expires_in` as a number of seconds (RFC 6749).
    Seconds,
    /// `expires_in` as a string of digits (MYOB's `"1200"`).
    SecondsText,
    /// `expires_at`, RFC 3339 (Square).
    Timestamp,
}

/// The shape of token and revoke error answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorStyle {
    /// RFC 6749 section 5.2: `{"error": …, "error_description": …}`; 400, 401 for
    /// `invalid_client`. `describe: false` leaves `error_description` out (Xero).
    Rfc6749 { describe: bool },
    /// Square's OAuth errors: `{"message": …, "type": "service.not_authorized"}` with 401 for a
    /// refused code, refresh token or client, `bad_request` with 400 for a malformed request.
    Square,
}

/// When a refresh token is issued with the code exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshIssue {
    Always,
    /// Only when this scope was granted (Xero's `offline_access`).
    WithScope(&'static str),
    /// Only with `access_type=offline`, and then only at the user's first consent or when
    /// `prompt` includes `consent` (Google).
    GoogleOffline,
}

/// How a refresh token's own expiry is reported in a token answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshReport {
    None,
    /// `x_refresh_token_expires_in`, seconds (Intuit).
    ExpiresInSecs(&'static str),
    /// `refresh_token_expires_at`, RFC 3339 (Square, PKCE flow only).
    ExpiresAt(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RefreshPolicy {
    pub(crate) issue: RefreshIssue,
    /// A refresh returns a new refresh token; the used one then works for `grace` more.
    pub(crate) rotates: bool,
    pub(crate) grace: Duration,
    /// A refresh token lapses this long after it was issued (or, with `slides`, last used).
    pub(crate) lifetime: Option<Duration>,
    /// Each use restarts `lifetime` (a non-rotating token that lapses when idle: Google).
    pub(crate) slides: bool,
    /// A hard limit counted from the user's consent (Intuit's five years).
    pub(crate) consent_cap: Option<Duration>,
    pub(crate) report: RefreshReport,
}

/// Query parameters the redirect carries besides `code` and `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RedirectExtras {
    None,
    /// `realmId`: the QuickBooks company.
    RealmId,
    /// `businessId` and `businessName` (the MYOB company file), only with `prompt=consent`.
    MyobBusiness,
}

/// The identity endpoint(s) served besides the OAuth ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    XeroConnections,
    QuickBooksCompanyInfo,
    GoogleUserinfo,
    SquareMerchant,
    MyobCompanyFiles,
    MauticSelf,
}

/// One provider's authorization server.
#[derive(Debug)]
pub struct OAuthProfile {
    /// The ready-line key: `xero`, `quickbooks`, `google`, `square`, `myob`, `mautic`.
    pub key: &'static str,
    /// Shown on the consent page.
    pub name: &'static str,
    pub(crate) authorize_path: &'static str,
    pub(crate) token_path: &'static str,
    pub(crate) revoke_path: Option<&'static str>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) token_body: TokenBody,
    pub(crate) revoke: RevokeStyle,
    pub(crate) token_type: &'static str,
    pub(crate) expiry: Expiry,
    pub(crate) errors: ErrorStyle,
    pub(crate) access_ttl: Duration,
    pub(crate) code_ttl: Duration,
    pub(crate) refresh: RefreshPolicy,
    /// `scope` is required at the authorize endpoint (else `invalid_scope`).
    pub(crate) scope_required: bool,
    /// The scopes granted when none were asked for.
    pub(crate) default_scope: &'static str,
    /// The redirect echoes the granted `scope`.
    pub(crate) redirect_scope: bool,
    pub(crate) redirect_extras: RedirectExtras,
    /// `error_description` on a denied consent (Square's `user_denied`).
    pub(crate) deny_description: Option<&'static str>,
    /// Square falls back to the registered redirect URL when the authorize URL has none.
    pub(crate) redirect_uri_optional: bool,
    /// A registered loopback redirect matches on any port (RFC 8252 section 7.3; Google).
    pub(crate) loopback_any_port: bool,
    /// An OpenID `id_token` is issued when `openid` was granted.
    pub(crate) id_token: bool,
    /// The token answer carries `scope`.
    pub(crate) answer_scope: bool,
    pub(crate) identity: Identity,
    pub(crate) client_id: fn(&mut SeedRng) -> String,
    pub(crate) client_secret: Option<fn(&mut SeedRng) -> String>,
    /// Prefixes of authorization codes, access tokens and refresh tokens (as the provider's look).
    pub(crate) prefixes: [&'static str; 3],
    /// Access tokens are JWTs (Xero): `header.claims.signature`, the signature not a real one.
    pub(crate) jwt_access_tokens: bool,
    /// Where the facts come from.
    pub docs: &'static [&'static str],
}

/// Every profile, in ready-line order.
pub(crate) static PROFILES: [&OAuthProfile; 6] =
    [&XERO, &QUICKBOOKS, &GOOGLE, &SQUARE, &MYOB, &MAUTIC];

fn hex_upper(rng: &mut SeedRng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(b"0123456789ABCDEF"[rng.below(16) as usize]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Xero
//
// Facts (https://developer.xero.com/documentation/guides/oauth2/pkce-flow,
// https://developer.xero.com/documentation/guides/oauth2/auth-flow,
// https://developer.xero.com/faq/oauth2, https://developer.xero.com/faq/oauth2/oauth-refresh-fail,
// shared/specs/xero-identity.json):
// - authorize https://login.xero.com/identity/connect/authorize, token
//   https://identity.xero.com/connect/token, revoke https://identity.xero.com/connect/revocation,
//   tenants GET https://api.xero.com/connections (Bearer).
// - PKCE apps get a client id and no secret ("no option to generate a client secret");
//   `code_challenge_method=S256`. Redirect URIs must be https except `localhost`; no wildcards
//   (RFC 6749 3.1.2), exact match, up to 50 per app.
// - Access tokens last 30 minutes. `offline_access` is needed for a refresh token. A refresh
//   returns a new refresh token; "if you don't receive the response you can retry refreshing
//   your existing refresh token for a grace period of 30 minutes". Unused refresh tokens expire
//   after 60 days.
// - Refused refreshes: 400 `{"error":"invalid_grant"}` (no description).
// - Connections: `[{id, authEventId, tenantId, tenantType: "ORGANISATION", tenantName,
//   createdDateUtc, updatedDateUtc}]`, dates without offset ("2019-12-07T18:46:19.5165400").
//   DELETE /connections/{id} disconnects one tenant (204).
// - Revoking a refresh token at the revocation endpoint removes the app's connections (the
//   whole grant); the fake revokes only that token when an access token is sent.
// Not confirmed: the authorization code's lifetime (the fake uses 5 minutes); the 401 body of
// api.xero.com (the fake answers the problem-details shape Xero's APIs use:
// `{"Type":null,"Title":"Unauthorized","Status":401,"Detail":"AuthenticationUnsuccessful"}`).
pub(crate) static XERO: OAuthProfile = OAuthProfile {
    key: "xero",
    name: "Xero",
    authorize_path: "/identity/connect/authorize",
    token_path: "/connect/token",
    revoke_path: Some("/connect/revocation"),
    client_auth: ClientAuth::Public,
    token_body: TokenBody::Form,
    revoke: RevokeStyle::Rfc7009 {
        client_auth: true,
        access_ends_grant: false,
        unknown_is_error: false,
    },
    token_type: "Bearer",
    expiry: Expiry::Seconds,
    errors: ErrorStyle::Rfc6749 { describe: false },
    access_ttl: Duration::from_secs(30 * 60),
    code_ttl: Duration::from_secs(5 * 60),
    refresh: RefreshPolicy {
        issue: RefreshIssue::WithScope("offline_access"),
        rotates: true,
        grace: Duration::from_secs(30 * 60),
        lifetime: Some(Duration::from_secs(60 * 86_400)),
        slides: false,
        consent_cap: None,
        report: RefreshReport::None,
    },
    scope_required: true,
    default_scope: "",
    redirect_scope: true,
    redirect_extras: RedirectExtras::None,
    deny_description: None,
    redirect_uri_optional: false,
    loopback_any_port: false,
    id_token: true,
    answer_scope: true,
    identity: Identity::XeroConnections,
    client_id: |rng| hex_upper(rng, 32),
    client_secret: None,
    prefixes: ["", "", ""],
    jwt_access_tokens: true,
    docs: &[
        "https://developer.xero.com/documentation/guides/oauth2/pkce-flow",
        "https://developer.xero.com/documentation/guides/oauth2/auth-flow",
        "https://developer.xero.com/faq/oauth2",
    ],
};

// ---------------------------------------------------------------------------------------------
// QuickBooks Online (Intuit)
//
// Facts (https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0,
// https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq,
// https://blogs.intuit.com/2025/11/12/important-changes-to-refresh-token-policy,
// Intuit's own client https://github.com/intuit/oauth-jsclient src/OAuthClient.js):
// - authorize https://appcenter.intuit.com/connect/oauth2, token
//   https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer, revoke
//   https://developer.api.intuit.com/v2/oauth2/tokens/revoke; the company API lives on
//   https://quickbooks.api.intuit.com (sandbox: sandbox-quickbooks.api.intuit.com).
// - Token requests: form body, `Authorization: Basic base64(client_id:client_secret)`.
//   Revoke: JSON `{"token": …}` (access or refresh token) with the same Basic header.
// - The redirect carries `code`, `state` and `realmId` (the company the user picked).
// - Access tokens last 3600 s. Refresh tokens live 100 days, rolling ("extended each time the
//   token is used"), and the answer says so in `x_refresh_token_expires_in`; always keep the
//   latest refresh token. Since the 2025 policy a refresh token also has a five-year maximum.
//   Answer: `{"token_type":"bearer","expires_in":3600,"refresh_token":…,
//   "x_refresh_token_expires_in":…,"access_token":…}`.
// - Identity: GET /v3/company/{realmId}/companyinfo/{realmId} → `{"CompanyInfo":{…
//   "CompanyName"…},"time":…}`; a bad token gets 401 with `fault.error[].code` "3200".
// Not confirmed: whether Intuit ever accepts PKCE (not documented; the fake requires it like
// every fake); whether an old refresh token keeps working for a while after rotation (the FAQ
// says the value changes about every 24 hours; the fake rotates on every refresh and refuses
// the old one at once, the strictest reading); the code's lifetime (the fake uses 5 minutes).
pub(crate) static QUICKBOOKS: OAuthProfile = OAuthProfile {
    key: "quickbooks",
    name: "QuickBooks Online",
    authorize_path: "/connect/oauth2",
    token_path: "/oauth2/v1/tokens/bearer",
    revoke_path: Some("/v2/oauth2/tokens/revoke"),
    client_auth: ClientAuth::SecretBasic,
    token_body: TokenBody::Form,
    revoke: RevokeStyle::IntuitJson,
    token_type: "bearer",
    expiry: Expiry::Seconds,
    errors: ErrorStyle::Rfc6749 { describe: true },
    access_ttl: HOUR,
    code_ttl: Duration::from_secs(5 * 60),
    refresh: RefreshPolicy {
        issue: RefreshIssue::Always,
        rotates: true,
        grace: Duration::ZERO,
        lifetime: Some(Duration::from_secs(100 * 86_400)),
        slides: false,
        consent_cap: Some(Duration::from_secs(5 * 365 * 86_400)),
        report: RefreshReport::ExpiresInSecs("x_refresh_token_expires_in"),
    },
    scope_required: true,
    default_scope: "",
    redirect_scope: false,
    redirect_extras: RedirectExtras::RealmId,
    deny_description: None,
    redirect_uri_optional: false,
    loopback_any_port: false,
    id_token: true,
    answer_scope: false,
    identity: Identity::QuickBooksCompanyInfo,
    client_id: |rng| format!("AB{}", rng.base62(48)),
    client_secret: Some(|rng| rng.base62(40)),
    prefixes: [
        "AB11",
        "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..",
        "AB11",
    ],
    jwt_access_tokens: false,
    docs: &[
        "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0",
        "https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq",
        "https://blogs.intuit.com/2025/11/12/important-changes-to-refresh-token-policy",
    ],
};

// ---------------------------------------------------------------------------------------------
// Google (Calendar)
//
// Facts (https://developers.google.com/identity/protocols/oauth2/native-app,
// https://developers.google.com/identity/protocols/oauth2#expiration,
// https://cloud.google.com/nodejs/docs/reference/google-auth-library/latest/google-auth-library/generateauthurlopts):
// - authorize https://accounts.google.com/o/oauth2/v2/auth, token
//   https://oauth2.googleapis.com/token, revoke https://oauth2.googleapis.com/revoke (token as
//   a query or form parameter), userinfo https://openidconnect.googleapis.com/v1/userinfo.
// - Desktop apps use a loopback redirect on any port; they get a client secret Google does not
//   treat as secret, sent with the code and refresh requests.
// - A refresh token is returned only with `access_type=offline`, on the first exchange for the
//   user; re-granting needs `prompt=consent` to get one again. Refreshes do not rotate (no
//   `refresh_token` in the answer). An unused refresh token stops working after six months.
// - Access tokens: `expires_in` 3599. Refused refreshes: 400 `{"error":"invalid_grant",
//   "error_description":"Token has been expired or revoked."}`. Revoking an access token also
//   revokes its refresh token; an invalid token gets 400 `invalid_token`.
// - Google also accepts `code_challenge_method=plain`; the fake refuses it (stricter).
// Not confirmed: the code's lifetime (the fake uses 10 minutes).
pub(crate) static GOOGLE: OAuthProfile = OAuthProfile {
    key: "google",
    name: "Google",
    authorize_path: "/o/oauth2/v2/auth",
    token_path: "/token",
    revoke_path: Some("/revoke"),
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    revoke: RevokeStyle::Rfc7009 {
        client_auth: false,
        access_ends_grant: true,
        unknown_is_error: true,
    },
    token_type: "Bearer",
    expiry: Expiry::Seconds,
    errors: ErrorStyle::Rfc6749 { describe: true },
    access_ttl: Duration::from_secs(3599),
    code_ttl: Duration::from_secs(10 * 60),
    refresh: RefreshPolicy {
        issue: RefreshIssue::GoogleOffline,
        rotates: false,
        grace: Duration::ZERO,
        lifetime: Some(Duration::from_secs(183 * 86_400)),
        slides: true,
        consent_cap: None,
        report: RefreshReport::None,
    },
    scope_required: true,
    default_scope: "",
    redirect_scope: true,
    redirect_extras: RedirectExtras::None,
    deny_description: None,
    redirect_uri_optional: false,
    loopback_any_port: true,
    id_token: true,
    answer_scope: true,
    identity: Identity::GoogleUserinfo,
    client_id: |rng| {
        format!(
            "{}-{}.apps.googleusercontent.com",
            rng.digits(12),
            rng.base62(32).to_ascii_lowercase()
        )
    },
    client_secret: Some(|rng| format!("GOCSPX-{}", rng.base62(28))),
    prefixes: ["4/0A", "ya29.a0", "1//0g"],
    jwt_access_tokens: false,
    docs: &[
        "https://developers.google.com/identity/protocols/oauth2/native-app",
        "https://developers.google.com/identity/protocols/oauth2#expiration",
    ],
};

// ---------------------------------------------------------------------------------------------
// Square
//
// Facts (https://developer.squareup.com/docs/oauth-api/overview,
// https://developer.squareup.com/reference/square/o-auth/obtain-token,
// https://developer.squareup.com/reference/square/objects/ObtainTokenResponse,
// https://developer.squareup.com/reference/square/o-auth/revoke-token,
// https://developer.squareup.com/docs/oauth-api/receive-and-manage-tokens,
// shared/specs/square.json ObtainToken / RevokeToken / RetrieveTokenStatus):
// - authorize https://connect.squareup.com/oauth2/authorize, POST /oauth2/token and
//   /oauth2/revoke with JSON bodies (Sandbox: connect.squareupsandbox.com, which alone accepts
//   http://localhost redirects).
// - Codes expire after 5 minutes and are single-use.
// - PKCE flow: `code`, `client_id`, `code_verifier` (no secret). The answer has `expires_at`
//   (not `expires_in`), `merchant_id`, `token_type: "bearer"`, `short_lived`, and for PKCE a
//   single-use refresh token with `refresh_token_expires_at` (90 days); a refresh returns a new
//   single-use refresh token. Access tokens last 30 days (24 hours with `short_lived`).
// - Revoke: `Authorization: Client <application secret>`, JSON `{client_id, access_token}` (or
//   `merchant_id`); revokes every token of that merchant for the app unless
//   `revoke_only_access_token`; answers `{"success": true}`.
// - Deny: the redirect carries `error=access_denied&error_description=user_denied`.
// - Merchant: GET /v2/merchants/me (RetrieveMerchant) → `{"merchant": {…}}`; API errors are
//   `{"errors":[{"category":"AUTHENTICATION_ERROR","code":"UNAUTHORIZED"|
//   "ACCESS_TOKEN_EXPIRED"|"ACCESS_TOKEN_REVOKED",…}]}`.
// - OAuth errors: Square's forum shows 401 `{"message":"Invalid refresh token",
//   "type":"service.not_authorized"}` (https://developer.squareup.com/forums/t/getting-error-while-renew-token/11056),
//   not RFC 6749's `invalid_grant`: the fake answers that shape.
// Not confirmed: the exact messages of each refusal, and what revoking an unknown token
// answers (the fake: 200 `{"success": true}`).
pub(crate) static SQUARE: OAuthProfile = OAuthProfile {
    key: "square",
    name: "Square",
    authorize_path: "/oauth2/authorize",
    token_path: "/oauth2/token",
    revoke_path: Some("/oauth2/revoke"),
    client_auth: ClientAuth::PublicOrSecret,
    token_body: TokenBody::Json,
    revoke: RevokeStyle::SquareClient,
    token_type: "bearer",
    expiry: Expiry::Timestamp,
    errors: ErrorStyle::Square,
    access_ttl: Duration::from_secs(30 * 86_400),
    code_ttl: Duration::from_secs(5 * 60),
    refresh: RefreshPolicy {
        issue: RefreshIssue::Always,
        rotates: true,
        grace: Duration::ZERO,
        lifetime: Some(Duration::from_secs(90 * 86_400)),
        slides: false,
        consent_cap: None,
        report: RefreshReport::ExpiresAt("refresh_token_expires_at"),
    },
    scope_required: false,
    default_scope: "MERCHANT_PROFILE_READ PAYMENTS_READ SETTLEMENTS_READ BANK_ACCOUNTS_READ",
    redirect_scope: false,
    redirect_extras: RedirectExtras::None,
    deny_description: Some("user_denied"),
    redirect_uri_optional: true,
    loopback_any_port: false,
    id_token: false,
    answer_scope: false,
    identity: Identity::SquareMerchant,
    client_id: |rng| format!("sandbox-sq0idb-{}", rng.base62(22)),
    client_secret: Some(|rng| format!("sandbox-sq0csb-{}", rng.base62(43))),
    prefixes: ["sq0cgb-", "EAAAl", "EQAAl"],
    jwt_access_tokens: false,
    docs: &[
        "https://developer.squareup.com/docs/oauth-api/overview",
        "https://developer.squareup.com/reference/square/o-auth/obtain-token",
        "https://developer.squareup.com/reference/square/o-auth/revoke-token",
    ],
};

// ---------------------------------------------------------------------------------------------
// MYOB Business (AccountRight)
//
// Facts (https://developer.myob.com/api/myob-business-api/api-overview/authentication/,
// https://developer.myob.com/api/myob-business-api/api-overview/granular_data_scopes,
// https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025,
// https://apisupport.myob.com/hc/en-us/articles/360001459455-How-to-Complete-End-User-Authentication-with-OAuth2-0):
// - authorize https://secure.myob.com/oauth2/account/authorize, token (code and refresh)
//   POST https://secure.myob.com/oauth2/v1/authorize, form with `client_id`, `client_secret`.
// - Scopes: granular `sme-…` scopes (`sme-company-file`, `sme-banking`, `sme-sales`, …), space
//   separated; the legacy `CompanyFile` scope is deprecated for keys created since 12 March 2025.
// - Since then the company file is learnt only from the redirect: `businessId` (the company
//   file GUID) and `businessName`, sent only when the authorize URL has `prompt=consent`.
// - "The returned Code expires in 2-5 minutes"; access tokens last 20 minutes; the token answer
//   carries `expires_in` as a string ("1200") and a `user` object (`uid`, `username`).
// - No revocation endpoint is documented.
// Not confirmed: whether MYOB accepts PKCE (the fake requires it like every fake); whether an
// old refresh token keeps working after a refresh (the fake: refused at once); a refresh
// token's own lifetime (none documented; the fake has none); the GET /accountright/ list and
// its 401 body (legacy keys' behaviour, kept for an identity check).
pub(crate) static MYOB: OAuthProfile = OAuthProfile {
    key: "myob",
    name: "MYOB",
    authorize_path: "/oauth2/account/authorize",
    token_path: "/oauth2/v1/authorize",
    revoke_path: None,
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    revoke: RevokeStyle::None,
    token_type: "bearer",
    expiry: Expiry::SecondsText,
    errors: ErrorStyle::Rfc6749 { describe: true },
    access_ttl: Duration::from_secs(20 * 60),
    code_ttl: Duration::from_secs(2 * 60),
    refresh: RefreshPolicy {
        issue: RefreshIssue::Always,
        rotates: true,
        grace: Duration::ZERO,
        lifetime: None,
        slides: false,
        consent_cap: None,
        report: RefreshReport::None,
    },
    scope_required: true,
    default_scope: "",
    redirect_scope: true,
    redirect_extras: RedirectExtras::MyobBusiness,
    deny_description: None,
    redirect_uri_optional: false,
    loopback_any_port: false,
    id_token: false,
    answer_scope: true,
    identity: Identity::MyobCompanyFiles,
    client_id: |rng| rng.base62(24).to_ascii_lowercase(),
    client_secret: Some(|rng| rng.base62(24)),
    prefixes: ["", "AAEAA", ""],
    jwt_access_tokens: false,
    docs: &[
        "https://developer.myob.com/api/myob-business-api/api-overview/authentication/",
        "https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025",
    ],
};

// ---------------------------------------------------------------------------------------------
// Mautic (self-hosted)
//
// Facts (https://devdocs.mautic.org/en/7.0/rest_api/authentication.html, from
// mautic/developer-documentation-new docs/rest_api/authentication.rst; the OAuth server is
// FOSOAuthServerBundle over friendsofsymfony/oauth2-php):
// - On the customer's own URL: GET /oauth/v2/authorize, POST /oauth/v2/token with
//   `client_id`, `client_secret`, `grant_type`, `redirect_uri`, `code`. Grant types
//   `authorization_code`, `refresh_token`, `client_credentials`.
// - Answer `{"access_token","expires_in":3600,"token_type":"bearer","scope":"",
//   "refresh_token"}`; `expires_in` is configurable per instance.
// - "By default, the refresh token is valid for 14 days"; a refresh returns a new access token
//   and a new refresh token valid 14 days from its issue; oauth2-php then expires the old one
//   ("If we've granted a new refresh token, expire the old one"). A refused refresh is a 400.
// - API calls: `Authorization: Bearer`, or `access_token` in the query or POST body. The user
//   behind the token: GET /api/users/self.
// - No revocation endpoint.
// Not confirmed: PKCE support (none documented; the fake requires it like every fake); the
// code's lifetime (the fake uses FOSOAuthServerBundle's default, 30 s); the API's 401 body (the
// fake: `{"errors":[{"message":"API authorization denied.","code":401,"type":"access_denied"}]}`).
pub(crate) static MAUTIC: OAuthProfile = OAuthProfile {
    key: "mautic",
    name: "Mautic",
    authorize_path: "/oauth/v2/authorize",
    token_path: "/oauth/v2/token",
    revoke_path: None,
    client_auth: ClientAuth::SecretPost,
    token_body: TokenBody::Form,
    revoke: RevokeStyle::None,
    token_type: "bearer",
    expiry: Expiry::Seconds,
    errors: ErrorStyle::Rfc6749 { describe: true },
    access_ttl: HOUR,
    code_ttl: Duration::from_secs(30),
    refresh: RefreshPolicy {
        issue: RefreshIssue::Always,
        rotates: true,
        grace: Duration::ZERO,
        lifetime: Some(Duration::from_secs(14 * 86_400)),
        slides: false,
        consent_cap: None,
        report: RefreshReport::None,
    },
    scope_required: false,
    default_scope: "",
    redirect_scope: false,
    redirect_extras: RedirectExtras::None,
    deny_description: None,
    redirect_uri_optional: false,
    loopback_any_port: false,
    id_token: false,
    answer_scope: true,
    identity: Identity::MauticSelf,
    client_id: |rng| format!("1_{}", rng.base62(50).to_ascii_lowercase()),
    client_secret: Some(|rng| rng.base62(50).to_ascii_lowercase()),
    prefixes: ["", "", ""],
    jwt_access_tokens: false,
    docs: &["https://devdocs.mautic.org/en/7.0/rest_api/authentication.html"],
};

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn keys_are_unique_and_paths_absolute() {
        let mut keys: Vec<_> = PROFILES.iter().map(|p| p.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), PROFILES.len());
        for p in PROFILES {
            for path in [Some(p.authorize_path), Some(p.token_path), p.revoke_path]
                .into_iter()
                .flatten()
            {
                assert!(path.starts_with('/'), "{}: {path}", p.key);
            }
            assert_eq!(
                p.revoke_path.is_none(),
                p.revoke == RevokeStyle::None,
                "{}",
                p.key
            );
            assert!(
                p.access_ttl >= MINUTE && p.code_ttl <= 10 * MINUTE,
                "{}",
                p.key
            );
        }
    }
}
