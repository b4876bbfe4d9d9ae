//! The fields a provider's credentials form asks for (providers connected by key or account
//! credentials, not a browser sign-in), as data: the connect dialog renders them and
//! `switchboard_app::CredentialConnect::from_form` reads them back by `key`.

use serde::Serialize;
use ts_rs::TS;

/// One field of a credentials form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct CredentialField {
    /// The name the value comes back under.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    /// For `choice`: the values offered, the first being the default.
    pub choices: &'static [&'static str],
    pub placeholder: &'static str,
    /// One sentence under the field: where to find the value, or what leaving it empty means.
    pub hint: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldKind {
    Text,
    /// Never shown again once submitted; sealed before it is stored.
    Secret,
    Number,
    Choice,
}

const fn field(key: &'static str, label: &'static str, kind: FieldKind) -> CredentialField {
    CredentialField {
        key,
        label,
        kind,
        required: true,
        choices: &[],
        placeholder: "",
        hint: "",
    }
}

/// The API base field of self-hosted providers (BillionMail): required, the customer's URL.
pub const ADDRESS: &str = "address";

/// What a Stripe restricted key needs, named as the Dashboard's permission list names them:
/// reads for every synced stream (and the account, for its name), writes for the actions
/// (refunds, payment requests as Checkout Sessions, cancelling subscriptions). A macro so the
/// field's hint can be built from it at compile time.
macro_rules! stripe_key_permissions {
    () => {
        "read access to Charges, Refunds, Balance transactions, Disputes, Payouts, Customers, \
         Subscriptions, Events and Account, and write access to Refunds, Checkout Sessions and \
         Subscriptions"
    };
}
pub const STRIPE_KEY_PERMISSIONS: &str = stripe_key_permissions!();

pub static STRIPE: &[CredentialField] = &[CredentialField {
    placeholder: "sk_live_… or rk_live_…",
    hint: concat!(
        "A restricted key is safer: Dashboard → Developers → API keys → Create restricted key, with ",
        stripe_key_permissions!(),
        "."
    ),
    ..field("api_key", "Secret or restricted key", FieldKind::Secret)
}];

// https://developer.paypal.com/api/rest/authentication/
pub static PAYPAL: &[CredentialField] = &[
    CredentialField {
        choices: &["live", "sandbox"],
        hint: "Sandbox apps and their credentials live in the PayPal developer dashboard.",
        ..field("environment", "Environment", FieldKind::Choice)
    },
    CredentialField {
        hint: "Developer dashboard → Apps & Credentials → your REST app.",
        ..field("client_id", "Client ID", FieldKind::Text)
    },
    field("client_secret", "Secret", FieldKind::Secret),
];

// https://www.twilio.com/docs/usage/requests-to-twilio
pub static TWILIO: &[CredentialField] = &[
    CredentialField {
        placeholder: "AC…",
        hint: "Console → Account info.",
        ..field("account_sid", "Account SID", FieldKind::Text)
    },
    CredentialField {
        required: false,
        placeholder: "SK…",
        hint: "Leave empty to use the Auth Token; an API key can be revoked on its own.",
        ..field("api_key_sid", "API key SID", FieldKind::Text)
    },
    CredentialField {
        hint: "The Auth Token, or the API key's secret when an API key SID is given.",
        ..field("secret", "Auth Token or API key secret", FieldKind::Secret)
    },
];

// https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys
pub static SENDGRID: &[CredentialField] = &[CredentialField {
    placeholder: "SG.…",
    hint: "Settings → API Keys; Mail Send plus read access to your user account.",
    ..field("api_key", "API key", FieldKind::Secret)
}];

pub static BILLIONMAIL: &[CredentialField] = &[
    CredentialField {
        placeholder: "https://mail.example.com",
        hint: "The address of your BillionMail server.",
        ..field(ADDRESS, "BillionMail address", FieldKind::Text)
    },
    CredentialField {
        hint: "BillionMail → Settings → API.",
        ..field("api_key", "API key", FieldKind::Secret)
    },
];

// RFC 6409 (submission, 587 with STARTTLS), RFC 8314 (implicit TLS, 465).
pub static SMTP: &[CredentialField] = &[
    CredentialField {
        placeholder: "smtp.example.com",
        ..field("host", "Server", FieldKind::Text)
    },
    CredentialField {
        choices: &["starttls", "tls", "none"],
        hint: "STARTTLS on port 587 is the usual choice; TLS is port 465; none only for a \
            server on this computer.",
        ..field("security", "Security", FieldKind::Choice)
    },
    CredentialField {
        required: false,
        placeholder: "587",
        hint: "Leave empty for the security's usual port.",
        ..field("port", "Port", FieldKind::Number)
    },
    field("user", "User name", FieldKind::Text),
    field("password", "Password", FieldKind::Secret),
];

// https://devdocs.mautic.org/en/7.0/rest_api/authentication.html#basic-authentication: off by
// default; the browser sign-in (OAuth 2) is the other way in.
pub static MAUTIC: &[CredentialField] = &[
    CredentialField {
        placeholder: "https://mautic.example.com",
        hint: "The address of your Mautic.",
        ..field(ADDRESS, "Mautic address", FieldKind::Text)
    },
    CredentialField {
        hint: "A Mautic user; an administrator must turn on Settings → Configuration → API \
            Settings → “Enable HTTP basic auth?”.",
        ..field("user", "User name", FieldKind::Text)
    },
    field("password", "Password", FieldKind::Secret),
];
