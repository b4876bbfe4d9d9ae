//! The token lifecycle every OAuth connection shares: hand out a valid access token,
//! refreshing it a few minutes before it expires, at most once at a time per connection across
//! threads and processes, and never losing a rotated refresh token.
//!
//! The order of a refresh is the point of this module:
//! 1. take the connection's `oauth-refresh` OS lock (`locks.rs`; the CLI and the app share a
//!    workspace), then read the grant again: if its generation moved on while we waited,
//!    another process refreshed and its access token is used (no second request);
//! 2. ask the provider;
//! 3. seal the new tokens and commit them with the grant's metadata in ONE durable
//!    transaction (`Store::write_durably`), refusing to overwrite a newer grant;
//! 4. only then hand the new access token out.
//!
//! A process killed after 2 and before 3 leaves the previous refresh token stored: providers
//! with a grace period (Xero: 30 minutes) accept it once more. `invalid_grant` (revoked or
//! lapsed) marks the connection `needs_reconnect` with the reason; no data is touched.

use crate::{errors, locks, sync::blocking};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::path::PathBuf;
use std::sync::Arc;
use switchboard_core::catalogue::TokenLifetimes;
use switchboard_core::views::TokenState;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::ProviderError;
use switchboard_providers::oauth::{OAuthClient, TokenSet};
use switchboard_secrets::{MasterKey, Sealed, SecretString};
use switchboard_store::oauth_grants::{self, ACCESS_TOKEN, Grant, REFRESH_TOKEN, SealedTokens};
use switchboard_store::rusqlite;
use switchboard_store::secrets::SecretRow;
use switchboard_store::{Store, connections};

/// How long before its expiry an access token is refreshed.
pub(crate) const REFRESH_AHEAD: Duration = Duration::minutes(3);

/// Tokens a provider just issued. `refresh: None` means the provider kept the refresh token
/// (Google does not rotate); the stored one stays.
pub(crate) struct FreshTokens {
    pub access: SecretString,
    pub refresh: Option<SecretString>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl From<TokenSet> for FreshTokens {
    fn from(set: TokenSet) -> Self {
        FreshTokens {
            access: set.access_token,
            refresh: set.refresh_token,
            access_expires_at: set.expires_at,
            refresh_expires_at: set.refresh_expires_at,
        }
    }
}

/// Asks a provider for new tokens with a refresh token (the OAuth client, or a test double).
#[async_trait]
pub(crate) trait Refresher: Send + Sync {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<FreshTokens, ProviderError>;
}

/// The OAuth client of a connection, refreshing with the grant's stored scopes.
pub(crate) struct ClientRefresher<'a> {
    pub client: &'a OAuthClient,
    pub scopes: Vec<String>,
}

#[async_trait]
impl Refresher for ClientRefresher<'_> {
    async fn refresh(&self, refresh_token: &SecretString) -> Result<FreshTokens, ProviderError> {
        Ok(self
            .client
            .refresh(refresh_token, &self.scopes)
            .await?
            .into())
    }
}

/// What the lifecycle needs from a workspace.
pub(crate) struct Tokens {
    pub store: Arc<Store>,
    pub key: Arc<MasterKey>,
    /// The workspace folder (holds the locks).
    pub folder: PathBuf,
}

/// What a call to [`Tokens::access_token`] did (tests and the request log want to know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The stored access token was still good.
    Stored,
    /// Another process refreshed while this one waited for the lock.
    RefreshedElsewhere,
    /// This call refreshed.
    Refreshed,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether `grant`'s access token is good for a while yet at `now`: more than
/// [`REFRESH_AHEAD`] left, or more than half its lifetime for tokens that live only a few
/// minutes (so a token just issued is never refreshed again at once).
fn fresh_enough(grant: &Grant, now: DateTime<Utc>) -> bool {
    let Some(expires) = parse_time(&grant.access_expires_at) else {
        return false;
    };
    let issued = grant
        .last_refreshed_at
        .as_deref()
        .unwrap_or(&grant.consented_at);
    let margin = parse_time(issued).map_or(REFRESH_AHEAD, |issued| {
        REFRESH_AHEAD.min((expires - issued) / 2)
    });
    expires - margin > now
}

/// Whether a refresh token that lapses when unused should be exercised now: once two thirds
/// of its idle lifetime have passed since it was last used (or granted).
pub(crate) fn keep_alive_due(
    grant: &Grant,
    lifetimes: &TokenLifetimes,
    now: DateTime<Utc>,
) -> bool {
    let Some(days) = lifetimes.refresh_lapses_unused_days else {
        return false;
    };
    let since = grant
        .last_refreshed_at
        .as_deref()
        .unwrap_or(&grant.consented_at);
    parse_time(since).is_some_and(|at| now - at >= Duration::days(i64::from(days)) * 2 / 3)
}

/// How long before an unpreventable lapse the user is warned.
pub(crate) const LAPSE_WARNING: Duration = Duration::days(14);

/// A grant's state for the health view, and when it lapses regardless of refreshing: the
/// consent's end (MYOB: yearly) or the refresh token's own expiry, whichever comes first.
pub(crate) fn token_health(
    grant: &Grant,
    lifetimes: &TokenLifetimes,
    needs_reconnect: bool,
    now: DateTime<Utc>,
) -> (TokenState, Option<DateTime<Utc>>) {
    let consent_ends = lifetimes.consent_expires_days.and_then(|days| {
        parse_time(&grant.consented_at).map(|at| at + Duration::days(i64::from(days)))
    });
    let refresh_ends = grant.refresh_expires_at.as_deref().and_then(parse_time);
    let lapses_at = match (consent_ends, refresh_ends) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let state = if needs_reconnect {
        TokenState::Revoked
    } else if lapses_at.is_some_and(|at| at - LAPSE_WARNING <= now) {
        TokenState::Expiring
    } else {
        TokenState::Valid
    };
    (state, lapses_at)
}

impl Tokens {
    pub(crate) fn seal(&self, value: &SecretString) -> SecretRow {
        let id = switchboard_store::new_id();
        let sealed = self.key.seal(value.expose().as_bytes(), id.as_bytes());
        SecretRow {
            id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
        }
    }

    pub(crate) fn open(&self, row: SecretRow) -> Result<SecretString, CommandError> {
        self.key
            .open(
                &Sealed {
                    nonce: row.nonce,
                    ciphertext: row.ciphertext,
                },
                row.id.as_bytes(),
            )
            .map_err(|e| errors::internal(format!("a stored token cannot be read: {e}")))
    }

    /// One stored token of a connection, opened, if there is one (disconnect revokes with it).
    pub(crate) async fn stored(
        &self,
        connection_id: &str,
        purpose: &'static str,
    ) -> Result<Option<SecretString>, CommandError> {
        let id = connection_id.to_string();
        let row = blocking(&self.store, move |s| {
            switchboard_store::secrets::get(&s.conn(), &id, purpose)
        })
        .await?;
        row.map(|row| self.open(row)).transpose()
    }

    /// The grant and one of its sealed tokens, read together.
    async fn read(
        &self,
        connection_id: &str,
        purpose: &'static str,
    ) -> Result<(Grant, SecretString), CommandError> {
        let id = connection_id.to_string();
        let (grant, row) = blocking(&self.store, move |s| {
            let conn = s.conn();
            let grant = oauth_grants::get(&conn, &id)?;
            let row = switchboard_store::secrets::get(&conn, &id, purpose)?;
            Ok((grant, row))
        })
        .await?;
        match (grant, row) {
            (Some(grant), Some(row)) => Ok((grant, self.open(row)?)),
            _ => Err(CommandError::new(
                ErrorCode::AuthFailed,
                "This connection has no stored sign-in. Reconnect it.",
            )),
        }
    }

    /// Stores the tokens of a new grant (connect, reconnect) durably, with `first` (the
    /// connection row itself) in the same transaction.
    pub(crate) async fn store_new_with(
        &self,
        connection_id: &str,
        client_id: &str,
        tokens: &FreshTokens,
        now: DateTime<Utc>,
        first: impl FnOnce(&rusqlite::Transaction<'_>) -> switchboard_store::Result<()> + Send + 'static,
    ) -> Result<(), CommandError> {
        let (id, client_id, now) = (
            connection_id.to_string(),
            client_id.to_string(),
            rfc3339(now),
        );
        self.write_tokens(tokens, move |tx, sealed| {
            first(tx)?;
            oauth_grants::put_new(tx, &id, &client_id, sealed, &now)
        })
        .await
    }

    /// Seals `tokens` and runs `write` with them in one durable transaction.
    async fn write_tokens<T: Send + 'static>(
        &self,
        tokens: &FreshTokens,
        write: impl FnOnce(
            &rusqlite::Transaction<'_>,
            &SealedTokens<'_>,
        ) -> switchboard_store::Result<T>
        + Send
        + 'static,
    ) -> Result<T, CommandError> {
        let access = self.seal(&tokens.access);
        let refresh = tokens.refresh.as_ref().map(|r| self.seal(r));
        let access_expires_at = rfc3339(tokens.access_expires_at);
        let refresh_expires_at = tokens.refresh_expires_at.map(rfc3339);
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            store.write_durably(|tx| {
                write(
                    tx,
                    &SealedTokens {
                        access: &access,
                        refresh: refresh.as_ref(),
                        access_expires_at: &access_expires_at,
                        refresh_expires_at: refresh_expires_at.as_deref(),
                    },
                )
            })
        })
        .await
        .map_err(|e| errors::internal(format!("storing tokens failed: {e}")))?
        .map_err(errors::store)
    }

    /// A valid access token for `connection_id` at `now`, refreshing first when it expires
    /// within [`REFRESH_AHEAD`] (or when `force` is set: `switchboard auth refresh`).
    pub(crate) async fn access_token(
        &self,
        connection_id: &str,
        refresher: &dyn Refresher,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<(SecretString, Source), CommandError> {
        let (grant, access) = self.read(connection_id, ACCESS_TOKEN).await?;
        if !force && fresh_enough(&grant, now) {
            return Ok((access, Source::Stored));
        }
        let seen_generation = grant.generation;
        // Waiting for the lock blocks a thread: off the async workers.
        let lock = {
            let (folder, id) = (self.folder.clone(), connection_id.to_string());
            tokio::task::spawn_blocking(move || locks::lock(&folder, &id, locks::OAUTH_REFRESH))
                .await
                .map_err(|e| errors::internal(format!("waiting for the refresh lock failed: {e}")))?
                .map_err(|e| errors::internal(format!("cannot take the refresh lock: {e}")))?
        };
        let (grant, refresh_token) = self.read(connection_id, REFRESH_TOKEN).await?;
        if grant.generation != seen_generation {
            drop(lock);
            let (_, access) = self.read(connection_id, ACCESS_TOKEN).await?;
            return Ok((access, Source::RefreshedElsewhere));
        }
        let fresh = match refresher.refresh(&refresh_token).await {
            Ok(fresh) => fresh,
            Err(e) => {
                drop(lock);
                return Err(self.refresh_failed(connection_id, e).await);
            }
        };
        let (id, now) = (connection_id.to_string(), rfc3339(now));
        self.write_tokens(&fresh, move |tx, sealed| {
            oauth_grants::put_refreshed(tx, &id, seen_generation, sealed, &now)
        })
        .await?;
        drop(lock);
        Ok((fresh.access, Source::Refreshed))
    }

    /// A refused refresh: a dead grant needs the user (the connection says so and scheduled
    /// syncs stop); anything else is passed on to be retried later.
    async fn refresh_failed(&self, connection_id: &str, e: ProviderError) -> CommandError {
        if switchboard_providers::oauth::needs_reconnect(&e) {
            // The client's message names the provider and says to reconnect.
            let reason = format!("{} Its data and sync position are kept.", e.message);
            let (id, stored_reason) = (connection_id.to_string(), reason.clone());
            if let Err(store_error) = blocking(&self.store, move |s| {
                connections::mark_needs_reconnect(&s.conn(), &id, &stored_reason)
            })
            .await
            {
                tracing::warn!("could not mark the connection for reconnect: {store_error:?}");
            }
            return CommandError::new(ErrorCode::AuthFailed, reason);
        }
        CommandError::from(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use switchboard_providers::ProviderErrorKind;
    use switchboard_secrets::KeySource;
    use switchboard_store::connections::NewConnection;
    use switchboard_store::secrets;

    const NOW: &str = "2026-01-01T12:00:00Z";

    fn now() -> DateTime<Utc> {
        parse_time(NOW).unwrap()
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        tokens: Tokens,
    }

    async fn fixture(access_expires_in: Duration) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_folder(dir.path()).unwrap());
        connections::insert(
            &store.conn(),
            &NewConnection {
                id: "c1",
                provider: "xero",
                name: "Books",
                account_id: None,
                api_base: "http://x",
            },
        )
        .unwrap();
        let tokens = Tokens {
            store,
            key: Arc::new(MasterKey::from_bytes([7; 32], KeySource::Env)),
            folder: dir.path().to_path_buf(),
        };
        let first = FreshTokens {
            access: SecretString::new("access-1"),
            refresh: Some(SecretString::new("refresh-1")),
            access_expires_at: now() + access_expires_in,
            refresh_expires_at: None,
        };
        tokens
            .store_new_with(
                "c1",
                "client",
                &first,
                now() - Duration::days(1),
                |_| Ok(()),
            )
            .await
            .unwrap();
        Fixture { _dir: dir, tokens }
    }

    /// Answers refreshes with numbered tokens, counting them; `rotate: false` behaves like
    /// Google (no new refresh token). `gate` holds each refresh until notified.
    struct FakeProvider {
        calls: AtomicUsize,
        rotate: bool,
        fail: Option<ProviderErrorKind>,
        gate: Option<tokio::sync::Notify>,
        seen: std::sync::Mutex<Vec<String>>,
    }

    impl FakeProvider {
        fn new(rotate: bool) -> Self {
            FakeProvider {
                calls: AtomicUsize::new(0),
                rotate,
                fail: None,
                gate: None,
                seen: Default::default(),
            }
        }
    }

    #[async_trait]
    impl Refresher for FakeProvider {
        async fn refresh(
            &self,
            refresh_token: &SecretString,
        ) -> Result<FreshTokens, ProviderError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 2;
            self.seen
                .lock()
                .unwrap()
                .push(refresh_token.expose().to_string());
            if let Some(gate) = &self.gate {
                gate.notified().await;
            }
            if let Some(kind) = self.fail {
                let mut e = ProviderError::new(kind, "Revoked. Reconnect Xero to continue.");
                e.provider_code = Some("invalid_grant".into());
                return Err(e);
            }
            Ok(FreshTokens {
                access: SecretString::new(format!("access-{n}")),
                refresh: self
                    .rotate
                    .then(|| SecretString::new(format!("refresh-{n}"))),
                access_expires_at: now() + Duration::minutes(30),
                refresh_expires_at: None,
            })
        }
    }

    async fn stored(t: &Tokens, purpose: &'static str) -> String {
        t.read("c1", purpose).await.unwrap().1.expose().to_string()
    }

    #[tokio::test]
    async fn a_fresh_token_is_used_as_is() {
        let f = fixture(Duration::minutes(20)).await;
        let provider = FakeProvider::new(true);
        let (token, source) = f
            .tokens
            .access_token("c1", &provider, now(), false)
            .await
            .unwrap();
        assert_eq!((token.expose(), source), ("access-1", Source::Stored));
        assert_eq!(provider.calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_kept() {
        let f = fixture(Duration::minutes(2)).await;
        let provider = FakeProvider::new(true);
        let (token, source) = f
            .tokens
            .access_token("c1", &provider, now(), false)
            .await
            .unwrap();
        assert_eq!((token.expose(), source), ("access-2", Source::Refreshed));
        assert_eq!(provider.seen.lock().unwrap().as_slice(), ["refresh-1"]);
        assert_eq!(stored(&f.tokens, REFRESH_TOKEN).await, "refresh-2");
        assert_eq!(stored(&f.tokens, ACCESS_TOKEN).await, "access-2");
        // The next refresh sends the rotated token, not the first one.
        f.tokens
            .access_token("c1", &provider, now(), true)
            .await
            .unwrap();
        assert_eq!(
            provider.seen.lock().unwrap().as_slice(),
            ["refresh-1", "refresh-2"]
        );
        let grant = f.tokens.read("c1", ACCESS_TOKEN).await.unwrap().0;
        assert_eq!(grant.generation, 3);
        assert_eq!(grant.last_refreshed_at.as_deref(), Some(NOW));
    }

    #[tokio::test]
    async fn a_provider_that_does_not_rotate_keeps_the_stored_refresh_token() {
        let f = fixture(Duration::zero()).await;
        let provider = FakeProvider::new(false);
        f.tokens
            .access_token("c1", &provider, now(), false)
            .await
            .unwrap();
        assert_eq!(stored(&f.tokens, REFRESH_TOKEN).await, "refresh-1");
        assert_eq!(stored(&f.tokens, ACCESS_TOKEN).await, "access-2");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_cause_one_refresh() {
        let f = Arc::new(fixture(Duration::zero()).await);
        let mut provider = FakeProvider::new(true);
        provider.gate = Some(tokio::sync::Notify::new());
        let provider = Arc::new(provider);
        let call = |f: Arc<Fixture>, p: Arc<FakeProvider>| {
            tokio::spawn(async move { f.tokens.access_token("c1", p.as_ref(), now(), false).await })
        };
        let first = call(f.clone(), provider.clone());
        // The first caller holds the lock inside its refresh; the second waits for the lock.
        while provider.calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let second = call(f.clone(), provider.clone());
        provider.gate.as_ref().unwrap().notify_one();
        let (a, b) = (
            first.await.unwrap().unwrap(),
            second.await.unwrap().unwrap(),
        );
        assert_eq!(
            provider.calls.load(Ordering::SeqCst),
            1,
            "one refresh request"
        );
        assert_eq!(a.0.expose(), "access-2");
        assert_eq!(b.0.expose(), "access-2");
        // Whether the second read the grant before or after the first stored its tokens (the
        // lock path or the fresh path), it used the first one's token.
        assert!(
            matches!(b.1, Source::RefreshedElsewhere | Source::Stored),
            "{:?}",
            b.1
        );
    }

    #[tokio::test]
    async fn a_refused_grant_asks_for_a_reconnect_and_keeps_everything() {
        let f = fixture(Duration::zero()).await;
        let mut provider = FakeProvider::new(true);
        provider.fail = Some(ProviderErrorKind::Auth);
        let err = f
            .tokens
            .access_token("c1", &provider, now(), false)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::AuthFailed);
        assert!(err.message.contains("Reconnect"), "{}", err.message);
        let conn = f.tokens.store.conn();
        let view = connections::find(&conn, "c1").unwrap();
        assert_eq!(
            view.status,
            switchboard_core::views::ConnectionStatus::NeedsReconnect
        );
        // The tokens stay (a reconnect replaces them); nothing was deleted.
        assert!(secrets::get(&conn, "c1", REFRESH_TOKEN).unwrap().is_some());
    }

    #[tokio::test]
    async fn a_passing_failure_is_retryable_and_changes_nothing() {
        let f = fixture(Duration::zero()).await;
        let mut provider = FakeProvider::new(true);
        provider.fail = Some(ProviderErrorKind::Server);
        let err = f
            .tokens
            .access_token("c1", &provider, now(), false)
            .await
            .unwrap_err();
        assert!(err.retryable, "{err:?}");
        let conn = f.tokens.store.conn();
        let view = connections::find(&conn, "c1").unwrap();
        assert_eq!(
            view.status,
            switchboard_core::views::ConnectionStatus::Connected
        );
    }

    #[test]
    fn a_consent_that_must_be_renewed_warns_two_weeks_ahead() {
        let myob = switchboard_core::catalogue::provider("myob")
            .unwrap()
            .oauth
            .unwrap()
            .tokens;
        let grant = |consented: &str, refresh_expires: Option<&str>| Grant {
            connection_id: "c1".into(),
            client_id: "client".into(),
            access_expires_at: NOW.into(),
            refresh_expires_at: refresh_expires.map(str::to_string),
            last_refreshed_at: None,
            consented_at: consented.into(),
            generation: 1,
        };
        // Consented 355 days ago: the yearly renewal is 10 days away.
        let (state, at) = token_health(&grant("2025-01-11T12:00:00Z", None), &myob, false, now());
        assert_eq!(state, TokenState::Expiring);
        assert_eq!(at, parse_time("2026-01-11T12:00:00Z"));
        // A month after consent: fine.
        let (state, _) = token_health(&grant("2025-12-01T12:00:00Z", None), &myob, false, now());
        assert_eq!(state, TokenState::Valid);
        // A refresh token's own expiry counts too, whichever comes first.
        let (state, at) = token_health(
            &grant("2025-12-01T12:00:00Z", Some("2026-01-05T00:00:00Z")),
            &myob,
            false,
            now(),
        );
        assert_eq!(
            (state, at),
            (TokenState::Expiring, parse_time("2026-01-05T00:00:00Z"))
        );
        let (state, _) = token_health(&grant("2025-12-01T12:00:00Z", None), &myob, true, now());
        assert_eq!(state, TokenState::Revoked);
    }

    #[test]
    fn keep_alive_runs_after_two_thirds_of_the_idle_lifetime() {
        let lifetimes = TokenLifetimes {
            access_token_secs: 1800,
            refresh_rotates: true,
            previous_refresh_grace_secs: 1800,
            refresh_lapses_unused_days: Some(60),
            consent_expires_days: None,
        };
        let grant = |last: Option<&str>| Grant {
            connection_id: "c1".into(),
            client_id: "client".into(),
            access_expires_at: NOW.into(),
            refresh_expires_at: None,
            last_refreshed_at: last.map(str::to_string),
            consented_at: "2025-11-01T12:00:00Z".into(),
            generation: 1,
        };
        // Granted 61 days ago and never refreshed: due.
        assert!(keep_alive_due(&grant(None), &lifetimes, now()));
        // Refreshed 30 days ago: not yet (due at 40).
        assert!(!keep_alive_due(
            &grant(Some("2025-12-02T12:00:00Z")),
            &lifetimes,
            now()
        ));
        let google = TokenLifetimes {
            refresh_lapses_unused_days: None,
            ..lifetimes
        };
        assert!(!keep_alive_due(&grant(None), &google, now()));
    }
}
