use crate::sync::{self, RequestBuffer, RetryPolicy, StreamJob, blocking};
use crate::{Result, data_dir, errors};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_core::secret::SecretString;
use switchboard_core::views::*;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::PullPayments;
use switchboard_providers::stripe::Stripe;
use switchboard_secrets::{MasterKey, Sealed};
use switchboard_store::secrets::SecretRow;
use switchboard_store::workspace::WorkspaceRow;
use switchboard_store::{DB_FILE, Store, connections, payments, sync_runs};

/// Query of `list_payments`: keyset paging, newest first.
#[derive(Debug, Clone, Default)]
pub struct PaymentQuery {
    /// Which payments; every payment when empty.
    pub filter: PaymentFilter,
    /// Page size; default 200, at most 1,000.
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Count every matching payment too (costs more than the page at a million rows: ask on
    /// a query's first page only).
    pub with_total: bool,
}

/// What started a sync run (stored on the run row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Manual,
    Demo,
    Schedule,
    /// A verified provider event asked for a targeted incremental sync.
    Webhook,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Demo => "demo",
            Trigger::Schedule => "schedule",
            Trigger::Webhook => "webhook",
        }
    }
}

const API_KEY: &str = "api_key";
pub(crate) const DEFAULT_PAGE: usize = 200;
const MAX_PAGE: usize = 1000;

/// An open workspace (real, or the demo under `<data dir>/demo/`).
pub struct Workspace {
    pub(crate) store: Arc<Store>,
    pub(crate) key: Arc<MasterKey>,
    pub(crate) kind: WorkspaceKind,
    pub(crate) folder: PathBuf,
    pub(crate) client: reqwest::Client,
    /// Each connection's rate limiter and circuit breaker (`health.rs`).
    pub(crate) guards: crate::health::Guards,
    /// Each PayPal connection's access token (`adapters/paypal.rs`).
    pub(crate) paypal_tokens: crate::adapters::PayPalTokenCaches,
    /// Lease holder id of this instance: one run per stream at a time, across processes.
    holder: String,
    /// Connections (by name or id; `*` for all) whose running sync should stop at the next
    /// page boundary.
    cancel_requests: std::sync::Mutex<std::collections::HashSet<String>>,
    retry: RetryPolicy,
    /// What the scheduler last learned about the network (`scheduler.rs`).
    pub(crate) network: std::sync::Mutex<crate::scheduler::NetworkState>,
    /// When outbox items are retried and become dead letters (`outbox.rs`).
    pub(crate) outbox_policy: crate::outbox::OutboxPolicy,
    /// The in-process sandbox the demo talks to; stops with the workspace.
    pub(crate) sandbox: Option<switchboard_sandbox::Sandbox>,
}

impl Workspace {
    /// Whether a real workspace database exists ("something is configured").
    pub fn real_exists(data_dir: &Path) -> bool {
        data_dir::real_folder(data_dir).join(DB_FILE).exists()
    }

    /// Opens (creating if needed) the real workspace.
    pub async fn open_real(data_dir: &Path) -> Result<Workspace> {
        Self::open_folder(data_dir::real_folder(data_dir), WorkspaceKind::Real).await
    }

    /// Opens the demo workspace: starts the sandbox in-process, points the demo Stripe
    /// connection at it, and runs a first sync when nothing has been synced yet.
    pub async fn open_demo(data_dir: &Path) -> Result<Workspace> {
        crate::demo::open(data_dir).await
    }

    pub(crate) async fn open_folder(folder: PathBuf, kind: WorkspaceKind) -> Result<Workspace> {
        let kind_str = match kind {
            WorkspaceKind::Demo => "demo",
            WorkspaceKind::Real => "real",
        };
        let opened = {
            let folder = folder.clone();
            tokio::task::spawn_blocking(move || open_blocking(&folder, kind_str))
                .await
                .map_err(|e| errors::internal(format!("opening the workspace failed: {e}")))??
        };
        let (store, key) = opened;
        Ok(Workspace {
            store: Arc::new(store),
            key: Arc::new(key),
            kind,
            folder,
            client: switchboard_providers::http::client(),
            guards: Default::default(),
            paypal_tokens: Default::default(),
            holder: uuid::Uuid::new_v4().to_string(),
            cancel_requests: Default::default(),
            retry: RetryPolicy::default(),
            network: Default::default(),
            outbox_policy: crate::outbox::OutboxPolicy::from_env(),
            sandbox: None,
        })
    }

    /// Overrides the page retry policy (tests use short delays).
    pub fn set_retry_policy(&mut self, retry: RetryPolicy) {
        self.retry = retry;
    }

    pub fn info(&self) -> WorkspaceInfo {
        WorkspaceInfo {
            kind: self.kind,
            path: self.folder.display().to_string(),
        }
    }

    /// Validates the key with `GET /v1/charges?limit=1`, identifies the account
    /// (`GET /v1/account`), then stores the connection and the encrypted key in one
    /// transaction. Nothing is stored when validation fails. (The desktop dialog's path; the
    /// same as `connect_with_credentials` for Stripe.)
    pub async fn add_stripe_connection(
        &self,
        input: NewStripeConnection,
    ) -> Result<ConnectionView> {
        let connected = self
            .connect_with_credentials(crate::CredentialConnect::Stripe(crate::StripeConnect {
                name: input.name,
                api_key: SecretString::new(input.api_key),
                api_base: input.api_base,
            }))
            .await?;
        for note in &connected.notes {
            tracing::info!(connection = %connected.connection.name, "{note}");
        }
        Ok(connected.connection)
    }

    /// Stores a verified connection and its sealed key together.
    pub(crate) async fn insert_connection(
        &self,
        provider: &'static str,
        name: &str,
        api_base: &str,
        api_key: &SecretString,
    ) -> Result<ConnectionView> {
        let id = switchboard_store::new_id();
        let secret_id = switchboard_store::new_id();
        let sealed = self
            .key
            .seal(api_key.expose().as_bytes(), secret_id.as_bytes());
        let (name, api_base) = (name.to_string(), api_base.to_string());
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            connections::insert(
                &tx,
                &connections::NewConnection {
                    id: &id,
                    provider,
                    name: &name,
                    account_id: None,
                    api_base: &api_base,
                },
            )?;
            switchboard_store::secrets::put(
                &tx,
                &id,
                API_KEY,
                &SecretRow {
                    id: secret_id,
                    nonce: sealed.nonce,
                    ciphertext: sealed.ciphertext,
                },
            )?;
            let view = connections::find(&tx, &id)?;
            tx.commit()?;
            Ok(view)
        })
        .await
    }

    /// Replaces a connection's stored key (the demo's key follows the sandbox seed).
    pub(crate) async fn replace_api_key(
        &self,
        connection_id: &str,
        api_key: &SecretString,
    ) -> Result<()> {
        let secret_id = switchboard_store::new_id();
        let sealed = self
            .key
            .seal(api_key.expose().as_bytes(), secret_id.as_bytes());
        let connection_id = connection_id.to_string();
        blocking(&self.store, move |s| {
            switchboard_store::secrets::put(
                &s.conn(),
                &connection_id,
                API_KEY,
                &SecretRow {
                    id: secret_id,
                    nonce: sealed.nonce,
                    ciphertext: sealed.ciphertext,
                },
            )
        })
        .await
    }

    pub(crate) async fn api_key(&self, connection_id: &str) -> Result<SecretString> {
        let connection_id = connection_id.to_string();
        let row = blocking(&self.store, move |s| {
            switchboard_store::secrets::get(&s.conn(), &connection_id, API_KEY)
        })
        .await?
        .ok_or_else(|| {
            CommandError::new(
                ErrorCode::AuthFailed,
                "This connection has no stored key. Reconnect it with a new key.",
            )
        })?;
        self.key
            .open(
                &Sealed {
                    nonce: row.nonce,
                    ciphertext: row.ciphertext,
                },
                row.id.as_bytes(),
            )
            .map_err(errors::secrets)
    }

    pub async fn list_connections(&self) -> Result<Vec<ConnectionView>> {
        blocking(&self.store, |s| connections::list(&s.conn())).await
    }

    pub async fn find_connection(&self, name_or_id: &str) -> Result<ConnectionView> {
        let key = name_or_id.to_string();
        blocking(&self.store, move |s| connections::find(&s.conn(), &key)).await
    }

    /// Points a connection at another API base (sandbox, proxy, regional host).
    pub async fn set_connection_api_base(&self, connection_id: &str, api_base: &str) -> Result<()> {
        let (id, base) = (connection_id.to_string(), api_base.to_string());
        blocking(&self.store, move |s| {
            connections::set_api_base(&s.conn(), &id, &base)
        })
        .await
    }

    /// Asks running syncs of a connection (name or id), or of all, to stop after the page in
    /// hand. Their runs end `cancelled`, with every committed page kept; the next sync
    /// continues from there.
    pub fn cancel_sync(&self, connection: Option<&str>) {
        let key = connection.unwrap_or("*").to_string();
        self.cancel_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
    }

    fn cancel_requested(&self, target: &ConnectionView) -> bool {
        let requests = self
            .cancel_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        requests.contains("*") || requests.contains(&target.id) || requests.contains(&target.name)
    }

    fn clear_cancel(&self, target: &ConnectionView) {
        let mut requests = self
            .cancel_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        requests.remove(&target.id);
        requests.remove(&target.name);
    }

    /// Syncs one connection (by name or id) or all, calling `progress` as pages arrive.
    /// Returns one run per stream. A connection that fails does not stop the others; the
    /// error is recorded on its run and its card.
    pub async fn sync(
        &self,
        connection: Option<&str>,
        trigger: Trigger,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<Vec<SyncRunView>> {
        let targets = match connection {
            Some(key) => vec![self.find_connection(key).await?],
            // "Sync all" means every connection there is something to pull from (an
            // accounting connection has nothing yet).
            None => self
                .list_connections()
                .await?
                .into_iter()
                .filter(|c| pulls_from(&c.provider))
                .collect(),
        };
        // A cancel asked before this sync started is not for it.
        self.cancel_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove("*");
        for target in &targets {
            self.clear_cancel(target);
        }
        let mut runs = Vec::new();
        for target in targets {
            let cancel_all = self
                .cancel_requests
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains("*");
            if cancel_all {
                break;
            }
            // A connection cancelled before its turn is skipped; the others still run.
            if self.cancel_requested(&target) {
                self.clear_cancel(&target);
                continue;
            }
            runs.extend(self.sync_connection(&target, trigger, progress).await?);
        }
        Ok(runs)
    }

    async fn sync_connection(
        &self,
        target: &ConnectionView,
        trigger: Trigger,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<Vec<SyncRunView>> {
        let requests = Arc::new(RequestBuffer::default());
        let adapter = self.payments_adapter(target, requests.sink()).await?.pull;
        let mut runs = Vec::new();
        let mut last_error = None;
        for stream in adapter.streams() {
            let run = sync::run_stream(StreamJob {
                store: &self.store,
                requests: &requests,
                folder: &self.folder,
                holder: &self.holder,
                connection_name: &target.name,
                adapter: adapter.as_ref(),
                connection_id: &target.id,
                stream,
                trigger: trigger.as_str(),
                retry: self.retry,
                progress,
                cancelled: &|| self.cancel_requested(target),
            })
            .await?;
            let auth_failed = run.error_code.as_deref() == Some(ErrorCode::AuthFailed.as_str());
            let cancelled = run.status == "cancelled";
            if run.error_message.is_some() && !cancelled {
                last_error = run.error_message.clone();
            }
            runs.push(run);
            if auth_failed || cancelled {
                // A dead key fails every stream the same way; a cancel stops them all.
                break;
            }
        }
        let (id, finished) = (target.id.clone(), switchboard_core::now_rfc3339());
        let auth_failed = runs
            .last()
            .is_some_and(|r| r.error_code.as_deref() == Some(ErrorCode::AuthFailed.as_str()));
        blocking(&self.store, move |s| {
            let conn = s.conn();
            connections::record_sync(&conn, &id, &finished, last_error.as_deref())?;
            // Health: the last success or error (`switchboard health`).
            switchboard_store::rate_budget::record_outcome(
                &conn,
                &id,
                &finished,
                last_error.as_deref(),
            )?;
            if auth_failed {
                // The refused run's message names the provider and says what to do.
                connections::mark_needs_reconnect(
                    &conn,
                    &id,
                    last_error.as_deref().unwrap_or(
                        "The provider refused the stored credentials. Reconnect the connection.",
                    ),
                )?;
            }
            Ok(())
        })
        .await?;
        let cancelled = runs.iter().any(|r| r.status == "cancelled");
        if !auth_failed && !cancelled {
            // PayPal requests whose order the customer approved are captured now.
            self.follow_up_after_sync(target).await;
        }
        Ok(runs)
    }

    pub async fn list_payments(&self, mut query: PaymentQuery) -> Result<PaymentPage> {
        query.filter = self.resolve_filter(query.filter).await?;
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        blocking(&self.store, move |s| {
            let conn = s.conn();
            let (items, next_cursor) =
                payments::page(&conn, &query.filter, limit, query.after.as_deref())?;
            let total = if query.with_total {
                Some(payments::count(&conn, &query.filter)?)
            } else {
                None
            };
            Ok(PaymentPage {
                items,
                next_cursor,
                total,
            })
        })
        .await
    }

    /// `filter` with its connection (a name or id) resolved to an id: an unknown connection is
    /// `not_found`, not an empty list.
    pub(crate) async fn resolve_filter(&self, mut filter: PaymentFilter) -> Result<PaymentFilter> {
        if let Some(key) = filter
            .connection
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            filter.connection = Some(self.find_connection(key).await?.id);
        }
        Ok(filter)
    }

    /// How many payments `filter` selects.
    pub async fn count_payments(&self, filter: PaymentFilter) -> Result<i64> {
        let filter = self.resolve_filter(filter).await?;
        blocking(&self.store, move |s| payments::count(&s.conn(), &filter)).await
    }

    /// The request log, newest first: one connection (name or id) or all.
    pub async fn list_requests(
        &self,
        connection: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RequestLogView>> {
        let connection_id = match connection {
            Some(key) => Some(self.find_connection(key).await?.id),
            None => None,
        };
        blocking(&self.store, move |s| {
            switchboard_store::request_log::list(&s.conn(), connection_id.as_deref(), limit)
        })
        .await
    }

    pub async fn list_sync_runs(&self, limit: usize) -> Result<Vec<SyncRunView>> {
        blocking(&self.store, move |s| sync_runs::list(&s.conn(), limit)).await
    }
}

/// Opens the store and the master key, creating the workspace (row and key) on first use.
/// For a new workspace the key comes first, so a missing keyring leaves no database behind
/// (an empty database would count as "configured" and hide the demo).
fn open_blocking(folder: &Path, kind: &str) -> Result<(Store, MasterKey)> {
    let new_key = if folder.join(DB_FILE).exists() {
        None
    } else {
        let uuid = uuid::Uuid::new_v4().to_string();
        let key = MasterKey::load(&uuid, true).map_err(errors::secrets)?;
        Some((uuid, key))
    };
    let store = Store::open_folder(folder).map_err(errors::store)?;
    interrupt_orphaned_runs(folder, &store)?;
    let row = switchboard_store::workspace::get(&store.conn()).map_err(errors::store)?;
    let key = match (row, new_key) {
        (Some(row), _) => {
            let key = MasterKey::load(&row.uuid, false).map_err(errors::secrets)?;
            key.verify(&Sealed {
                nonce: row.key_check_nonce,
                ciphertext: row.key_check,
            })
            .map_err(errors::secrets)?;
            key
        }
        (None, new_key) => {
            let (uuid, key) = match new_key {
                Some(pair) => pair,
                // A database left without its workspace row (a crash during creation).
                None => {
                    let uuid = uuid::Uuid::new_v4().to_string();
                    let key = MasterKey::load(&uuid, true).map_err(errors::secrets)?;
                    (uuid, key)
                }
            };
            let check = key.key_check();
            switchboard_store::workspace::insert(
                &store.conn(),
                &WorkspaceRow {
                    uuid,
                    kind: kind.to_string(),
                    key_check_nonce: check.nonce,
                    key_check: check.ciphertext,
                },
            )
            .map_err(errors::store)?;
            key
        }
    };
    Ok((store, key))
}

/// Checks a new Stripe connection's input and makes one real call with the key, without
/// touching any workspace (the CLI checks before creating a workspace for it).
pub async fn check_stripe_key(input: NewStripeConnection) -> Result<()> {
    let (_, api_key, api_base) = checked_stripe_input(input)?;
    Stripe::new(
        switchboard_providers::http::client(),
        api_base.as_deref(),
        api_key,
    )
    .verify()
    .await
    .map_err(CommandError::from)
}

fn checked_stripe_input(
    input: NewStripeConnection,
) -> Result<(String, SecretString, Option<String>)> {
    let NewStripeConnection {
        name,
        api_key,
        api_base,
    } = input;
    let api_key = SecretString::new(api_key.trim());
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(errors::invalid(
            "Give the connection a name, e.g. “Main Stripe account”.",
        ));
    }
    validate_stripe_key(&api_key)?;
    let api_base = api_base
        .map(|b| b.trim().trim_end_matches('/').to_string())
        .filter(|b| !b.is_empty());
    if let Some(base) = &api_base {
        validate_base_url(base)?;
    }
    Ok((name, api_key, api_base))
}

/// Runs a process left `running` when it died become `interrupted` (their streams resume from
/// the checkpoint at the next sync). A live run holds its stream's lock, so it is left alone.
fn interrupt_orphaned_runs(folder: &Path, store: &Store) -> Result<()> {
    let running =
        switchboard_store::sync_leases::running_streams(&store.conn()).map_err(errors::store)?;
    for (connection_id, stream) in running {
        let lock = crate::locks::try_lock(folder, &connection_id, &stream)
            .map_err(|e| errors::internal(format!("cannot check the sync lock: {e}")))?;
        if lock.is_some() {
            let marked = sync_runs::mark_interrupted(&store.conn(), &connection_id, &stream)
                .map_err(errors::store)?;
            tracing::info!(
                marked,
                stream,
                "marked runs of a stopped process as interrupted"
            );
        }
    }
    Ok(())
}

fn validate_stripe_key(key: &SecretString) -> Result<()> {
    let k = key.expose().trim();
    if k.starts_with("pk_") {
        return Err(errors::invalid(format!(
            "That is a publishable key (pk_…). Switchboard needs a secret (sk_…) or, better, a restricted key (rk_…) with {}.",
            switchboard_core::catalogue::credentials::STRIPE_KEY_PERMISSIONS
        )));
    }
    if !(k.starts_with("sk_") || k.starts_with("rk_"))
        || k.len() < 10
        || k.contains(char::is_whitespace)
    {
        return Err(errors::invalid(
            "That does not look like a Stripe API key. Paste a restricted key (rk_…) or a secret key (sk_…) from the Stripe Dashboard (Developers → API keys).",
        ));
    }
    Ok(())
}

fn validate_base_url(base: &str) -> Result<()> {
    let ok = reqwest::Url::parse(base)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    ok.map(|_| ())
        .ok_or_else(|| errors::invalid(format!("“{base}” is not an http(s) URL.")))
}

/// Whether the sync engine pulls from `provider` (the catalogue's `pulls`; `sync_connection`
/// has its adapter, which a test checks).
pub(crate) fn pulls_from(provider: &str) -> bool {
    switchboard_core::catalogue::provider(provider).is_some_and(|p| p.pulls)
}

pub(crate) fn catalogue_name(provider: &str) -> &str {
    switchboard_core::catalogue::provider(provider).map_or(provider, |p| p.display_name)
}
