//! Random fault injection over HTTP: replayable from the fault seed, roughly at the configured
//! rates, each kind looking to a real client (reqwest) as it would from a real provider, and
//! counted.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_sandbox::{
    Counters, Fault, FaultConfig, FaultKind, FaultSpec, Sandbox, SandboxConfig,
};

const ALL_KINDS: &str = "rate_limit=0.1,server_error=0.1,reset=0.05,slow=0.05,malformed=0.1";

fn config(spec: &str, fault_seed: u64) -> FaultConfig {
    FaultConfig {
        faults: spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}")),
        fault_seed,
        slow_ms: 5,
    }
}

async fn sandbox(faults: FaultConfig) -> Sandbox {
    Sandbox::start_with_faults(
        SandboxConfig {
            port: 0,
            seed: 7,
            stripe_charges: 30,
        },
        faults,
    )
    .await
    .expect("sandbox starts")
}

/// What a client made of one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// A whole answer with a JSON body.
    Json(u16),
    /// A whole answer whose body is not JSON.
    BadJson(u16),
    /// The connection failed before the whole answer arrived.
    Transport,
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

struct Answer {
    outcome: Outcome,
    headers: reqwest::header::HeaderMap,
    error: Option<reqwest::Error>,
}

impl Client {
    fn new(sb: &Sandbox) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: sb.stripe_api_base(),
            key: sb.stripe_api_key(),
        }
    }

    async fn get_with_key(&self, path: &str, key: &str) -> Answer {
        let sent = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(error) => {
                return Answer {
                    outcome: Outcome::Transport,
                    headers: Default::default(),
                    error: Some(error),
                };
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(body) => Answer {
                outcome: if serde_json::from_slice::<Value>(&body).is_ok() {
                    Outcome::Json(status)
                } else {
                    Outcome::BadJson(status)
                },
                headers,
                error: None,
            },
            Err(error) => Answer {
                outcome: Outcome::Transport,
                headers,
                error: Some(error),
            },
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.get_with_key(path, &self.key.clone()).await
    }
}

/// The `i`-th request of the standard sequence: lists and retrieves over every endpoint.
fn path(i: usize) -> &'static str {
    [
        "/v1/charges?limit=3",
        "/v1/refunds?limit=2",
        "/v1/balance_transactions?limit=2",
        "/v1/charges/ch_doesnotexist",
    ][i % 4]
}

async fn outcomes(c: &Client, n: usize) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(c.get(path(i)).await.outcome);
    }
    out
}

fn tally(outcomes: &[Outcome]) -> BTreeMap<Outcome, usize> {
    let mut t = BTreeMap::new();
    for o in outcomes {
        *t.entry(*o).or_default() += 1;
    }
    t
}

#[tokio::test]
async fn same_fault_seed_replays_the_same_faults_and_another_seed_does_not() {
    let started = Instant::now();
    let a = sandbox(config(ALL_KINDS, 11)).await;
    let b = sandbox(config(ALL_KINDS, 11)).await;
    let other = sandbox(config(ALL_KINDS, 12)).await;

    let first = outcomes(&Client::new(&a), 300).await;
    // A rejected key draws nothing, so it does not shift the sequence.
    let cb = Client::new(&b);
    let wrong = cb.get_with_key(path(0), "sk_test_wrong").await;
    assert_eq!(wrong.outcome, Outcome::Json(401));
    assert_eq!(outcomes(&cb, 300).await, first, "same seed, same sequence");
    let different = outcomes(&Client::new(&other), 300).await;
    assert_ne!(different, first, "another seed, another sequence");

    // Every kind showed up, and not on every request.
    let t = tally(&first);
    for o in [
        Outcome::Json(429),
        Outcome::Json(500),
        Outcome::Json(503),
        Outcome::Transport,
        Outcome::BadJson(200),
        Outcome::Json(200),
        Outcome::Json(404),
    ] {
        assert!(t.contains_key(&o), "{o:?} missing from {t:?}");
    }

    // Restarting the faults on a running sandbox replays them too.
    a.stripe().set_random_faults(config(ALL_KINDS, 11));
    assert_eq!(outcomes(&Client::new(&a), 300).await, first);
    // And turning them off leaves clean answers.
    a.stripe().set_random_faults(FaultConfig::default());
    let clean = tally(&outcomes(&Client::new(&a), 40).await);
    assert_eq!(
        clean,
        BTreeMap::from([(Outcome::Json(200), 30), (Outcome::Json(404), 10)])
    );
    eprintln!("replay test took {:?}", started.elapsed());
}

#[tokio::test]
async fn probabilities_are_roughly_respected_and_counters_add_up() {
    let started = Instant::now();
    let n = 2_000;
    let sb = sandbox(config(ALL_KINDS, 2024)).await;
    let c = Client::new(&sb);
    let got = outcomes(&c, n).await;
    let t = tally(&got);
    let count = |o: Outcome| t.get(&o).copied().unwrap_or(0);
    let counters: Counters = sb.stripe().counters();
    let injected = counters.faults_injected;
    eprintln!("outcomes: {t:?}\ncounters: {counters:?}");

    // Rates: the expected count ± about 5 standard deviations (loose on purpose).
    let spec: FaultSpec = ALL_KINDS.parse().unwrap();
    let near = |what: &str, seen: usize, p: f64| {
        let mean = p * n as f64;
        let slack = 5.0 * (mean * (1.0 - p)).sqrt();
        assert!(
            (seen as f64 - mean).abs() <= slack,
            "{what}: {seen} times in {n}, expected about {mean}"
        );
    };
    for kind in FaultKind::ALL {
        near(kind.as_str(), injected.get(kind), spec.probability(kind));
    }

    // What the client saw is what was injected.
    assert_eq!(count(Outcome::Json(429)), injected.rate_limit);
    assert_eq!(
        count(Outcome::Json(500)) + count(Outcome::Json(503)),
        injected.server_error
    );
    assert!(
        count(Outcome::Json(500)) - count(Outcome::Json(503)) <= 1,
        "alternating"
    );
    assert_eq!(count(Outcome::Transport), injected.reset);
    assert_eq!(count(Outcome::BadJson(200)), injected.malformed);
    assert_eq!(
        count(Outcome::Json(200)) + count(Outcome::Json(404)),
        n - injected.total() + injected.slow,
        "slow answers are whole answers"
    );

    // Counters add up: per path, per status, per fault.
    assert_eq!(counters.requests(), n);
    assert_eq!(counters.by_status.values().sum::<usize>(), n);
    assert_eq!(sb.stripe().request_count(), n);
    for p in [
        "/v1/charges",
        "/v1/refunds",
        "/v1/balance_transactions",
        "/v1/charges/{id}",
    ] {
        assert_eq!(counters.path(p), n / 4, "{p}");
    }
    assert_eq!(counters.by_path.len(), 4, "{:?}", counters.by_path);
    assert_eq!(counters.status(0), injected.reset);
    assert_eq!(counters.status(429), injected.rate_limit);
    assert_eq!(
        counters.status(500) + counters.status(503),
        injected.server_error
    );
    assert_eq!(
        counters.status(200),
        count(Outcome::Json(200)) + count(Outcome::BadJson(200))
    );
    assert_eq!(counters.status(404), count(Outcome::Json(404)));
    eprintln!("2,000 requests took {:?}", started.elapsed());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let sb = sandbox(config("rate_limit=1", 1)).await;
    let c = Client::new(&sb);
    for p in ["/v1/charges", "/v1/refunds/re_missing"] {
        let a = c.get(p).await;
        assert_eq!(a.outcome, Outcome::Json(429), "{p}");
        assert_eq!(a.headers["retry-after"], "1");
        assert!(
            a.headers["request-id"]
                .to_str()
                .unwrap()
                .starts_with("req_")
        );
    }
    let body: Value = c
        .http
        .get(format!("{}/v1/charges", c.base))
        .bearer_auth(&c.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["error"]["code"], "rate_limit");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    // Faults apply only after the key is accepted.
    assert_eq!(
        c.get_with_key("/v1/charges", "sk_test_nope").await.outcome,
        Outcome::Json(401)
    );
    // A deterministic fault wins over the random one and keeps its shape (no Retry-After).
    sb.stripe().fail_next(1, Fault::RateLimited);
    let a = c.get("/v1/charges").await;
    assert_eq!(a.outcome, Outcome::Json(429));
    assert!(!a.headers.contains_key("retry-after"));
    assert_eq!(sb.stripe().counters().faults_injected.rate_limit, 3);
}

#[tokio::test]
async fn server_errors_alternate_500_and_503_with_api_error_bodies() {
    let sb = sandbox(config("server_error=1", 1)).await;
    let c = Client::new(&sb);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let resp = c
            .http
            .get(format!("{}/v1/balance_transactions", c.base))
            .bearer_auth(&c.key)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["type"], "api_error");
    }
    assert_eq!(statuses, [500, 503, 500, 503]);
}

#[tokio::test]
async fn reset_is_a_transport_error_not_a_short_body() {
    let sb = sandbox(config("reset=1", 1)).await;
    let c = Client::new(&sb);
    for p in ["/v1/charges?limit=10", "/v1/charges/ch_missing"] {
        let a = c.get(p).await;
        assert_eq!(a.outcome, Outcome::Transport, "{p}");
        let error = a.error.expect("an error");
        assert!(
            error.is_body() || error.is_decode() || error.is_request(),
            "{error:?}"
        );
        eprintln!("reset on {p}: {error:?}");
    }
    // The client keeps working afterwards (on a new connection).
    sb.stripe().set_random_faults(FaultConfig::default());
    assert_eq!(c.get("/v1/charges").await.outcome, Outcome::Json(200));
    let counters = sb.stripe().counters();
    assert_eq!(counters.status(0), 2);
    assert_eq!(counters.status(200), 1);
}

#[tokio::test]
async fn malformed_is_200_with_truncated_json() {
    let sb = sandbox(config("malformed=1", 1)).await;
    let c = Client::new(&sb);
    let resp = c
        .http
        .get(format!("{}/v1/charges?limit=5", c.base))
        .bearer_auth(&c.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await.unwrap();
    assert!(text.starts_with("{\""), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    // Even a 404 comes back as a truncated 200.
    assert_eq!(
        c.get("/v1/charges/ch_missing").await.outcome,
        Outcome::BadJson(200)
    );
}

#[tokio::test]
async fn slow_answers_late_but_whole() {
    let sb = sandbox(FaultConfig {
        slow_ms: 150,
        ..config("slow=1", 1)
    })
    .await;
    let c = Client::new(&sb);
    let t = Instant::now();
    assert_eq!(c.get("/v1/charges").await.outcome, Outcome::Json(200));
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(sb.stripe().counters().faults_injected.slow, 1);
    assert_eq!(FaultConfig::default().slow_ms, 2_000);
}

#[tokio::test]
async fn ready_line_echoes_the_spec_only_when_faults_are_on() {
    let on = sandbox(config("reset=0.02, rate_limit=0.05", 3)).await;
    let line = on.ready_line();
    assert_eq!(
        line["providers"]["stripe"]["faults"],
        "reset=0.02,rate_limit=0.05"
    );
    assert_eq!(
        line["providers"]["stripe"]["api_base"],
        on.stripe_api_base()
    );

    let off = sandbox(FaultConfig::default()).await;
    let line = off.ready_line();
    let stripe = line["providers"]["stripe"].as_object().unwrap();
    assert_eq!(
        stripe.keys().collect::<Vec<_>>(),
        ["api_base", "api_key", "rate_limits"],
        "{line}"
    );
}
