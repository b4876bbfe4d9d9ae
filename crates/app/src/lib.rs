//! The workspace service: everything the CLI and the desktop shell do goes through here, so
//! the two can never disagree. It owns the store, the master key and the provider adapters;
//! callers get views (`switchboard_core::views`) and errors as `CommandError`.

mod adapters;
mod backup;
mod credential_connect;
mod data_dir;
mod demo;
mod disconnect;
mod errors;
mod health;
mod locks;
mod notices;
mod oauth_connect;
mod oauth_identity;
mod outbox;
mod payments;
mod requests;
pub mod scheduler;
pub mod sync;
mod tokens;
pub mod webhooks;
mod workspace;

pub use backup::{
    KeyFileInput, RETENTION, list_backups_in, restore_backup_offline, verify_backup_in,
};
pub use credential_connect::{
    BillionMailConnect, Connected, CredentialConnect, MauticBasicConnect, PayPalConnect,
    PayPalEnvironment, SendGridConnect, SmtpConnect, SmtpSecurity, StripeConnect, TwilioConnect,
    Verified, purpose as secret_purpose, verify_credentials,
};
pub use data_dir::{DATA_DIR_ENV, demo_folder, real_folder, resolve_data_dir};
pub use health::{BreakerConfig, Clock, FakeClock, SystemClock};
pub use notices::SignInNotice;
pub use oauth_connect::{OAuthConnect, OAuthReconnect, OpenBrowser, oauth_defaults};
pub use outbox::{MAX_ATTEMPTS_ENV, OutboxPolicy, REFUND_REASONS};
pub use payments::month_of;
pub use requests::{ORDER_VALID_DAYS, PaymentRequestCheck};
pub use switchboard_core::{CommandError, ErrorCode};
pub use workspace::{PaymentQuery, Trigger, Workspace, check_stripe_key};

pub type Result<T, E = CommandError> = std::result::Result<T, E>;
