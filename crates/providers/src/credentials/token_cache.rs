//! An access token obtained with OAuth 2.0 client credentials (RFC 6749 section 4.4), kept in
//! memory and reused until shortly before it expires. Nothing is written anywhere: a new process
//! asks for a new token (client-credentials tokens are cheap to get and carry no refresh token).
//!
//! The clock is injected ([`Now`]) so tests can move time without sleeping.

use crate::ProviderError;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use switchboard_core::secret::SecretString;

/// Where the cache reads the time (UTC).
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_now() -> Now {
    Arc::new(Utc::now)
}

/// How long before its expiry a cached token is replaced: 5 minutes, so a request that starts
/// with it never meets an expired token on the way.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// A token as the token endpoint handed it out.
#[derive(Debug, Clone)]
pub struct FreshToken {
    pub token: SecretString,
    /// Its lifetime in seconds (`expires_in`).
    pub expires_in: u64,
}

#[derive(Debug)]
struct Cached {
    token: SecretString,
    /// From here on the token is replaced before use.
    refresh_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// One client's cached access token. Cheap to share (`Arc`); concurrent callers wait for one
/// fetch instead of each asking for a token.
#[derive(Debug)]
pub struct ClientCredentialsCache {
    margin: Duration,
    slot: tokio::sync::Mutex<Option<Cached>>,
}

impl Default for ClientCredentialsCache {
    fn default() -> Self {
        ClientCredentialsCache::new()
    }
}

impl ClientCredentialsCache {
    /// A cache that replaces tokens [`REFRESH_MARGIN`] before they expire.
    pub fn new() -> Self {
        ClientCredentialsCache::with_margin(REFRESH_MARGIN)
    }

    pub fn with_margin(margin: Duration) -> Self {
        ClientCredentialsCache {
            margin,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached token while it is good for more than the margin, else one from `fetch`
    /// (which is then cached). A token that lives less than twice the margin is replaced at half
    /// its lifetime instead, so short-lived tokens are still reused.
    pub async fn get<F, Fut>(&self, now: &Now, fetch: F) -> Result<SecretString, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FreshToken, ProviderError>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(cached) = slot.as_ref()
            && now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        // The lifetime counts from before the request: the token may have been issued at any
        // moment of the round trip.
        let asked_at = now();
        let fresh = fetch().await?;
        let token = fresh.token.clone();
        *slot = Some(self.cached(asked_at, fresh));
        Ok(token)
    }

    /// Caches a token obtained elsewhere (connecting asks for one to verify the credentials).
    pub async fn put(&self, asked_at: DateTime<Utc>, fresh: FreshToken) {
        *self.slot.lock().await = Some(self.cached(asked_at, fresh));
    }

    /// Forgets the token (the provider refused it: the next use asks for a new one).
    pub async fn clear(&self) {
        *self.slot.lock().await = None;
    }

    /// When the cached token expires, if there is one.
    pub async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.slot.lock().await.as_ref().map(|c| c.expires_at)
    }

    fn cached(&self, asked_at: DateTime<Utc>, fresh: FreshToken) -> Cached {
        let lifetime = Duration::from_secs(fresh.expires_in);
        let margin = self.margin.min(lifetime / 2);
        let span = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Cached {
            token: fresh.token,
            refresh_at: asked_at + span(lifetime - margin),
            expires_at: asked_at + span(lifetime),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Clock(Mutex<DateTime<Utc>>);

    impl Clock {
        fn now_fn(self: &Arc<Self>) -> Now {
            let me = self.clone();
            Arc::new(move || *me.0.lock().unwrap())
        }
        fn advance(&self, secs: i64) {
            *self.0.lock().unwrap() += chrono::Duration::seconds(secs);
        }
    }

    async fn fetch_counted(
        cache: &ClientCredentialsCache,
        now: &Now,
        count: &AtomicUsize,
        lifetime: u64,
    ) -> String {
        cache
            .get(now, || async {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                Ok(FreshToken {
                    token: SecretString::new(format!("token-{n}")),
                    expires_in: lifetime,
                })
            })
            .await
            .unwrap()
            .expose()
            .to_string()
    }

    #[tokio::test]
    async fn reuses_the_token_until_five_minutes_before_expiry() {
        let clock = Arc::new(Clock(Mutex::new("2026-03-01T12:00:00Z".parse().unwrap())));
        let now = clock.now_fn();
        let cache = ClientCredentialsCache::new();
        let count = AtomicUsize::new(0);
        // PayPal's tokens live 32,400 s (9 h).
        assert_eq!(fetch_counted(&cache, &now, &count, 32_400).await, "token-1");
        clock.advance(32_400 - 301);
        assert_eq!(fetch_counted(&cache, &now, &count, 32_400).await, "token-1");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        clock.advance(2); // now 4 min 59 s before expiry
        assert_eq!(fetch_counted(&cache, &now, &count, 32_400).await, "token-2");
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(
            cache.expires_at().await.unwrap(),
            now() + chrono::Duration::seconds(32_400)
        );
        cache.clear().await;
        assert_eq!(fetch_counted(&cache, &now, &count, 32_400).await, "token-3");
    }

    #[tokio::test]
    async fn short_lived_tokens_are_replaced_at_half_their_lifetime() {
        let clock = Arc::new(Clock(Mutex::new(Utc::now())));
        let now = clock.now_fn();
        let cache = ClientCredentialsCache::new();
        let count = AtomicUsize::new(0);
        fetch_counted(&cache, &now, &count, 240).await;
        clock.advance(119);
        fetch_counted(&cache, &now, &count, 240).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        clock.advance(1);
        fetch_counted(&cache, &now, &count, 240).await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_fetch_caches_nothing() {
        let now = system_now();
        let cache = ClientCredentialsCache::new();
        let err = cache
            .get(&now, || async {
                Err(ProviderError::new(
                    crate::ProviderErrorKind::Auth,
                    "refused",
                ))
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind, crate::ProviderErrorKind::Auth);
        assert!(cache.expires_at().await.is_none());
    }
}
