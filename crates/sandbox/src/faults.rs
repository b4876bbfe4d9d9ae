//! Random, replayable fault injection: what can go wrong between an adapter and a provider, drawn
//! from a seeded PRNG so a failing run can be replayed exactly.
//!
//! A [`FaultSpec`] (`rate_limit=0.05,server_error=0.05,reset=0.02,slow=0.01,malformed=0.02`)
//! gives each [`FaultKind`] a probability per request. One number is drawn from the fault PRNG
//! (seeded by [`FaultConfig::fault_seed`], independent of the data seed) for every authenticated
//! list/retrieve request and every authenticated POST, in arrival order, and picks at most one
//! fault. On a POST, `reset`, `slow` and `malformed` apply the write first (a `reset` after a
//! write is the uncertain outcome clients must reconcile); `rate_limit` and `server_error` apply
//! nothing. The same fault seed and
//! the same request sequence therefore give the same faults. Requests rejected for their key,
//! and unknown URLs, draw nothing.
//!
//! The kinds, as a client sees them:
//! - `rate_limit`: 429 with Stripe's rate-limit body and `Retry-After: 1`.
//! - `server_error`: 500 and 503 alternately, with an `api_error` body.
//! - `reset`: the status line, headers (with the full `Content-Length`) and part of the body are
//!   sent, then the connection is dropped: a transport error, never a clean short body.
//! - `slow`: the normal answer, delayed by [`FaultConfig::slow_ms`] (2 s by default).
//! - `malformed`: 200 `application/json` whose body is cut off half-way.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use http_body::Frame;

use crate::seed::SeedRng;

/// One kind of random fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// 429, Stripe's rate-limit body, `Retry-After: 1`.
    RateLimit,
    /// 500 or 503 (alternately), `api_error` body.
    ServerError,
    /// Connection dropped mid-body.
    Reset,
    /// The normal answer, late.
    Slow,
    /// 200 with truncated JSON.
    Malformed,
}

impl FaultKind {
    /// Every kind, in the order a draw walks them.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::RateLimit,
        FaultKind::ServerError,
        FaultKind::Reset,
        FaultKind::Slow,
        FaultKind::Malformed,
    ];

    /// The name used in a spec (`rate_limit`, `server_error`, `reset`, `slow`, `malformed`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::RateLimit => "rate_limit",
            FaultKind::ServerError => "server_error",
            FaultKind::Reset => "reset",
            FaultKind::Slow => "slow",
            FaultKind::Malformed => "malformed",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FaultKind {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<FaultKind, FaultSpecError> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| FaultSpecError::UnknownKind(s.to_string()))
    }
}

/// Per-request fault probabilities. The default is no faults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    /// Kinds with their probabilities, in the order they were written (each kind at most once).
    entries: Vec<(FaultKind, f64)>,
}

/// Why a fault spec was rejected.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultSpecError {
    /// An item without `=`.
    MissingProbability(String),
    /// A kind that does not exist.
    UnknownKind(String),
    /// A probability that is not a number in 0..=1.
    BadProbability { kind: FaultKind, value: String },
    /// The same kind twice.
    Duplicate(FaultKind),
    /// Probabilities adding up to more than 1.
    SumAboveOne(f64),
}

impl fmt::Display for FaultSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = FaultKind::ALL.map(FaultKind::as_str).join(", ");
        match self {
            FaultSpecError::MissingProbability(item) => write!(
                f,
                "fault `{item}` has no probability: write kind=probability, e.g. rate_limit=0.05"
            ),
            FaultSpecError::UnknownKind(kind) => {
                write!(f, "unknown fault kind `{kind}` (known: {kinds})")
            }
            FaultSpecError::BadProbability { kind, value } => write!(
                f,
                "probability of {kind} must be a number from 0 to 1, not `{value}`"
            ),
            FaultSpecError::Duplicate(kind) => write!(f, "fault kind {kind} is given twice"),
            FaultSpecError::SumAboveOne(sum) => {
                write!(f, "fault probabilities add up to {sum}, more than 1")
            }
        }
    }
}

impl std::error::Error for FaultSpecError {}

impl FaultSpec {
    /// No faults.
    pub fn none() -> FaultSpec {
        FaultSpec::default()
    }

    /// Parse `kind=probability,…` (whitespace around items is ignored; an empty string is no
    /// faults). Kinds: `rate_limit`, `server_error`, `reset`, `slow`, `malformed`; each
    /// probability in 0..=1 and their sum at most 1.
    pub fn parse(text: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut entries: Vec<(FaultKind, f64)> = Vec::new();
        for item in text.split(',').map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let (kind, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::MissingProbability(item.to_string()))?;
            let kind: FaultKind = kind.trim().parse()?;
            let value = value.trim();
            let p = value
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| FaultSpecError::BadProbability {
                    kind,
                    value: value.to_string(),
                })?;
            if entries.iter().any(|(k, _)| *k == kind) {
                return Err(FaultSpecError::Duplicate(kind));
            }
            entries.push((kind, p));
        }
        let sum: f64 = entries.iter().map(|(_, p)| p).sum();
        // Decimal fractions rarely add up exactly in binary (0.1 + 0.2 + 0.7).
        if sum > 1.0 + 1e-9 {
            return Err(FaultSpecError::SumAboveOne(sum));
        }
        Ok(FaultSpec { entries })
    }

    /// True when no kind is given.
    pub fn is_none(&self) -> bool {
        self.entries.is_empty()
    }

    /// The probability of `kind` per request (0 when not given).
    pub fn probability(&self, kind: FaultKind) -> f64 {
        self.entries
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0.0, |(_, p)| *p)
    }

    /// The kinds and probabilities, as written.
    pub fn entries(&self) -> &[(FaultKind, f64)] {
        &self.entries
    }

    /// Pick a fault for one request from a uniform draw in `[0, 1)`. Kinds are walked in
    /// [`FaultKind::ALL`] order, so the order they were written in does not matter.
    fn pick(&self, u: f64) -> Option<FaultKind> {
        let mut edge = 0.0;
        for kind in FaultKind::ALL {
            edge += self.probability(kind);
            if u < edge {
                return Some(kind);
            }
        }
        None
    }
}

/// `rate_limit=0.05,server_error=0.05` (the kinds as written; empty for no faults). Parsing
/// it gives the same spec back.
impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (kind, p)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{kind}={p}")?;
        }
        Ok(())
    }
}

impl FromStr for FaultSpec {
    type Err = FaultSpecError;

    fn from_str(s: &str) -> Result<FaultSpec, FaultSpecError> {
        FaultSpec::parse(s)
    }
}

/// Random fault injection settings for a sandbox (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultConfig {
    /// Per-request probabilities; none by default.
    pub faults: FaultSpec,
    /// Seed of the fault PRNG, separate from the data seed.
    pub fault_seed: u64,
    /// How late a `slow` answer is, in milliseconds (2,000 by default; tests use a few).
    pub slow_ms: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            faults: FaultSpec::none(),
            fault_seed: 0,
            slow_ms: 2_000,
        }
    }
}

/// Random faults injected so far, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub rate_limit: usize,
    pub server_error: usize,
    pub reset: usize,
    pub slow: usize,
    pub malformed: usize,
}

impl FaultCounts {
    pub fn get(&self, kind: FaultKind) -> usize {
        match kind {
            FaultKind::RateLimit => self.rate_limit,
            FaultKind::ServerError => self.server_error,
            FaultKind::Reset => self.reset,
            FaultKind::Slow => self.slow,
            FaultKind::Malformed => self.malformed,
        }
    }

    fn bump(&mut self, kind: FaultKind) {
        *match kind {
            FaultKind::RateLimit => &mut self.rate_limit,
            FaultKind::ServerError => &mut self.server_error,
            FaultKind::Reset => &mut self.reset,
            FaultKind::Slow => &mut self.slow,
            FaultKind::Malformed => &mut self.malformed,
        } += 1;
    }

    /// All kinds together.
    pub fn total(&self) -> usize {
        FaultKind::ALL.into_iter().map(|k| self.get(k)).sum()
    }
}

/// The random fault source of one fake: spec, PRNG and what it injected.
pub(crate) struct RandomFaults {
    config: FaultConfig,
    rng: SeedRng,
    injected: FaultCounts,
}

impl RandomFaults {
    pub(crate) fn new(config: FaultConfig) -> RandomFaults {
        let rng = SeedRng::derive(config.fault_seed, "faults");
        RandomFaults {
            config,
            rng,
            injected: FaultCounts::default(),
        }
    }

    /// The draw of one request: which fault, if any, it gets. Not counted until [`Self::inject`]
    /// (a deterministic fault queued by a test takes precedence over the draw).
    pub(crate) fn draw(&mut self) -> Option<FaultKind> {
        if self.config.faults.is_none() {
            return None;
        }
        self.config.faults.pick(self.rng.unit())
    }

    /// Count one injected `kind`; returns how many of it were injected, this one included.
    pub(crate) fn inject(&mut self, kind: FaultKind) -> usize {
        self.injected.bump(kind);
        self.injected.get(kind)
    }

    pub(crate) fn counts(&self) -> FaultCounts {
        self.injected
    }

    pub(crate) fn slow(&self) -> Duration {
        Duration::from_millis(self.config.slow_ms)
    }
}

/// A response body that yields its first part, waits a moment (so the part is flushed to the
/// socket), then fails: hyper drops the connection and the client, told the full
/// `Content-Length`, sees the body cut off.
pub(crate) struct ResetBody {
    head: Option<Bytes>,
    pause: Pin<Box<tokio::time::Sleep>>,
}

impl ResetBody {
    pub(crate) fn new(head: Bytes) -> ResetBody {
        ResetBody {
            head: Some(head),
            pause: Box::pin(tokio::time::sleep(Duration::from_millis(5))),
        }
    }
}

impl HttpBody for ResetBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(Frame::data(head))));
        }
        ready!(self.pause.as_mut().poll(cx));
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox fault injection: connection reset mid-body",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let spec: FaultSpec =
            "rate_limit=0.05,server_error=0.05,reset=0.02,slow=0.01,malformed=0.02"
                .parse()
                .unwrap();
        assert_eq!(spec.probability(FaultKind::RateLimit), 0.05);
        assert_eq!(spec.probability(FaultKind::ServerError), 0.05);
        assert_eq!(spec.probability(FaultKind::Reset), 0.02);
        assert_eq!(spec.probability(FaultKind::Slow), 0.01);
        assert_eq!(spec.probability(FaultKind::Malformed), 0.02);
        assert_eq!(
            spec.to_string(),
            "rate_limit=0.05,server_error=0.05,reset=0.02,slow=0.01,malformed=0.02"
        );
        assert_eq!(spec.to_string().parse::<FaultSpec>().unwrap(), spec);
    }

    #[test]
    fn accepts_spaces_subsets_bounds_and_empty() {
        let spec = FaultSpec::parse(" reset = 1 , ").unwrap();
        assert_eq!(spec.entries(), &[(FaultKind::Reset, 1.0)]);
        assert_eq!(spec.probability(FaultKind::Slow), 0.0);
        assert!(FaultSpec::parse("").unwrap().is_none());
        assert!(FaultSpec::parse("slow=0").is_ok());
        // 0.1 + 0.2 + 0.7 is a hair above 1 in binary; still accepted.
        assert!(FaultSpec::parse("rate_limit=0.1,reset=0.2,slow=0.7").is_ok());
        assert!(FaultSpec::none().is_none());
        assert_eq!(FaultSpec::none().to_string(), "");
    }

    #[test]
    fn rejects_bad_specs_with_clear_messages() {
        let err = |s: &str| FaultSpec::parse(s).unwrap_err();
        assert_eq!(
            err("timeout=0.1"),
            FaultSpecError::UnknownKind("timeout".into())
        );
        assert!(
            err("timeout=0.1")
                .to_string()
                .contains("unknown fault kind `timeout`")
        );
        assert!(
            err("timeout=0.1")
                .to_string()
                .contains("rate_limit, server_error")
        );
        for bad in ["abc", "1.5", "-0.1", "NaN", "", "inf"] {
            assert_eq!(
                err(&format!("reset={bad}")),
                FaultSpecError::BadProbability {
                    kind: FaultKind::Reset,
                    value: bad.into()
                },
                "{bad}"
            );
        }
        assert!(
            err("reset=abc")
                .to_string()
                .contains("from 0 to 1, not `abc`")
        );
        assert_eq!(
            err("reset"),
            FaultSpecError::MissingProbability("reset".into())
        );
        assert_eq!(
            err("slow=0.1,slow=0.2"),
            FaultSpecError::Duplicate(FaultKind::Slow)
        );
        assert!(matches!(
            err("reset=0.6,slow=0.5"),
            FaultSpecError::SumAboveOne(_)
        ));
        assert!(
            err("reset=0.6,slow=0.5")
                .to_string()
                .contains("more than 1")
        );
    }

    #[test]
    fn picks_by_cumulative_probability_in_fixed_order() {
        let a = FaultSpec::parse("rate_limit=0.25,malformed=0.25").unwrap();
        let b = FaultSpec::parse("malformed=0.25,rate_limit=0.25").unwrap();
        for (u, want) in [
            (0.0, Some(FaultKind::RateLimit)),
            (0.2499, Some(FaultKind::RateLimit)),
            (0.25, Some(FaultKind::Malformed)),
            (0.4999, Some(FaultKind::Malformed)),
            (0.5, None),
            (0.9999, None),
        ] {
            assert_eq!(a.pick(u), want, "{u}");
            assert_eq!(b.pick(u), want, "{u}");
        }
    }

    #[test]
    fn draws_are_replayable_and_counted() {
        let config = |seed| FaultConfig {
            faults: FaultSpec::parse("rate_limit=0.3,reset=0.3").unwrap(),
            fault_seed: seed,
            slow_ms: 1,
        };
        let run = |seed| {
            let mut f = RandomFaults::new(config(seed));
            let seq: Vec<_> = (0..200)
                .map(|_| {
                    let d = f.draw();
                    d.inspect(|k| {
                        f.inject(*k);
                    })
                })
                .collect();
            (seq, f.counts())
        };
        let (one, counts) = run(7);
        assert_eq!(run(7).0, one);
        assert_ne!(run(8).0, one);
        let n = |k| one.iter().filter(|d| **d == Some(k)).count();
        assert_eq!(counts.rate_limit, n(FaultKind::RateLimit));
        assert_eq!(counts.reset, n(FaultKind::Reset));
        assert_eq!(counts.total(), one.iter().flatten().count());
        assert_eq!(RandomFaults::new(FaultConfig::default()).draw(), None);
    }
}
