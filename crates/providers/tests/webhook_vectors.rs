//! Webhook verification against vectors made and judged by the providers' own libraries
//! (`scripts/webhook-vectors.py`: Stripe's `stripe` and Square's `squareup` Python packages).
//! Every vector runs through Switchboard's code, which must reach the library's verdict (and
//! the reason the case was built for). Where Switchboard is deliberately stricter the vector
//! says so in `deviation`, next to the library's own verdict.

use serde::Deserialize;
use switchboard_core::secret::SecretString;
use switchboard_providers::webhooks::{WebhookError, square, stripe};
use switchboard_speccheck::{Spec, assert_no_violations};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/webhooks");

#[derive(Deserialize)]
struct File<V> {
    provider: String,
    library: Library,
    vectors: Vec<V>,
}

#[derive(Deserialize)]
struct Library {
    package: String,
    version: String,
}

#[derive(Deserialize)]
struct StripeVector {
    name: String,
    body: String,
    header: String,
    secrets: Vec<String>,
    now: i64,
    tolerance: u64,
    library_valid: bool,
    library_secret_index: Option<usize>,
    expected_valid: bool,
    expected_error: Option<String>,
    deviation: Option<String>,
}

#[derive(Deserialize)]
struct SquareVector {
    name: String,
    body: String,
    header: String,
    secrets: Vec<String>,
    notification_url: String,
    library_valid: bool,
    library_secret_index: Option<usize>,
    expected_valid: bool,
    expected_error: Option<String>,
}

fn load<V: for<'de> Deserialize<'de>>(name: &str) -> File<V> {
    let path = format!("{FIXTURES}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn secrets(values: &[String]) -> Vec<SecretString> {
    values
        .iter()
        .map(|s| SecretString::new(s.clone()))
        .collect()
}

/// Checks one outcome against the vector's expectation; returns a description of a mismatch.
fn judge<T>(
    name: &str,
    outcome: &Result<T, WebhookError>,
    expected_valid: bool,
    expected_error: Option<&str>,
    matched: impl Fn(&T) -> usize,
    expected_index: Option<usize>,
) -> Option<String> {
    match (outcome, expected_valid) {
        (Ok(v), true) if Some(matched(v)) == expected_index => None,
        (Ok(v), true) => Some(format!(
            "{name}: matched secret #{} instead of #{expected_index:?}",
            matched(v)
        )),
        (Ok(_), false) => Some(format!("{name}: accepted, expected {expected_error:?}")),
        (Err(e), true) => Some(format!("{name}: refused ({e}), expected valid")),
        (Err(e), false) if Some(e.kind()) == expected_error => None,
        (Err(e), false) => Some(format!(
            "{name}: refused as {} ({e}), expected {expected_error:?}",
            e.kind()
        )),
    }
}

#[test]
fn stripe_vectors_get_the_verdict_of_stripes_library() {
    let file: File<StripeVector> = load("stripe.json");
    assert_eq!(file.provider, "stripe");
    assert_eq!(file.library.package, "stripe (PyPI)");
    assert!(!file.library.version.is_empty());
    let mut failures = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for v in &file.vectors {
        // The library's verdict is ours unless the vector records a deliberate deviation.
        if v.deviation.is_none() {
            assert_eq!(v.library_valid, v.expected_valid, "{}", v.name);
        }
        let outcome = stripe::verify(
            &v.header,
            v.body.as_bytes(),
            &secrets(&v.secrets),
            v.now,
            v.tolerance,
        );
        if let Some(failure) = judge(
            &v.name,
            &outcome,
            v.expected_valid,
            v.expected_error.as_deref(),
            |ok| ok.secret_index,
            v.library_secret_index,
        ) {
            failures.push(failure);
        }
        if v.expected_valid {
            valid += 1
        } else {
            invalid += 1
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        valid >= 5 && invalid >= 10,
        "{valid} valid, {invalid} invalid"
    );
    // The cases the issue names are all there.
    let names: Vec<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    for required in [
        "known_good",
        "tampered_body",
        "tampered_signature",
        "wrong_secret",
        "expired_timestamp",
        "future_timestamp",
        "multiple_v1_second_matches",
        "rotated_previous_secret",
        "non_ascii_body",
    ] {
        assert!(names.contains(&required), "no vector {required}");
    }
}

#[test]
fn square_vectors_get_the_verdict_of_squares_library() {
    let file: File<SquareVector> = load("square.json");
    assert_eq!(file.provider, "square");
    assert_eq!(file.library.package, "squareup (PyPI)");
    let mut failures = Vec::new();
    for v in &file.vectors {
        assert_eq!(v.library_valid, v.expected_valid, "{}", v.name);
        let outcome = square::verify(
            &v.header,
            &v.notification_url,
            v.body.as_bytes(),
            &secrets(&v.secrets),
        );
        if let Some(failure) = judge(
            &v.name,
            &outcome,
            v.expected_valid,
            v.expected_error.as_deref(),
            |index| *index,
            v.library_secret_index,
        ) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let names: Vec<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    for required in [
        "known_good",
        "tampered_body",
        "tampered_signature",
        "wrong_key",
        "wrong_notification_url",
        "rotated_previous_key",
        "non_ascii_body",
    ] {
        assert!(names.contains(&required), "no vector {required}");
    }
}

/// Our signing helpers (used by the receiver's tests) make exactly what the libraries made.
#[test]
fn signing_helpers_reproduce_the_library_signatures() {
    let file: File<StripeVector> = load("stripe.json");
    let good = file
        .vectors
        .iter()
        .find(|v| v.name == "known_good")
        .unwrap();
    let t: i64 = good.header[2..good.header.find(',').unwrap()]
        .parse()
        .unwrap();
    assert_eq!(
        stripe::signature_header(
            &SecretString::new(good.secrets[0].clone()),
            t,
            good.body.as_bytes()
        ),
        good.header
    );
    let file: File<SquareVector> = load("square.json");
    for name in ["known_good", "non_ascii_body", "url_with_query"] {
        let v = file.vectors.iter().find(|v| v.name == name).unwrap();
        assert_eq!(
            square::signature(
                &SecretString::new(v.secrets[0].clone()),
                &v.notification_url,
                v.body.as_bytes()
            ),
            v.header,
            "{name}"
        );
    }
}

/// The vectors' event bodies are what the providers send: Stripe's `event` (with a `charge`
/// inside) and Square's `Payment` inside its notification, per the official specs.
#[test]
fn vector_bodies_follow_the_provider_specs() {
    let stripe_spec = Spec::load("stripe.json").unwrap();
    let file: File<StripeVector> = load("stripe.json");
    let mut seen = std::collections::HashSet::new();
    for v in &file.vectors {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&v.body) else {
            continue;
        };
        if event["object"] != "event" || !seen.insert(v.body.clone()) {
            continue;
        }
        let what = format!("stripe vector {}", v.name);
        assert_no_violations(
            &what,
            &stripe_spec.validate_schema("event", &event).unwrap(),
        );
        assert_no_violations(
            &what,
            &stripe_spec
                .validate_schema("charge", &event["data"]["object"])
                .unwrap(),
        );
        let summary = stripe::event_summary(v.body.as_bytes()).unwrap();
        assert_eq!(summary.id, event["id"].as_str().unwrap());
        assert_eq!(summary.event_type.as_deref(), Some("charge.succeeded"));
    }
    assert!(seen.len() >= 2);

    let square_spec = Spec::load("square.json").unwrap();
    let file: File<SquareVector> = load("square.json");
    seen.clear();
    for v in &file.vectors {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&v.body) else {
            continue;
        };
        if !seen.insert(v.body.clone()) {
            continue;
        }
        let what = format!("square vector {}", v.name);
        assert_no_violations(
            &what,
            &square_spec
                .validate_schema("Payment", &event["data"]["object"]["payment"])
                .unwrap(),
        );
        let summary = square::event_summary(v.body.as_bytes()).unwrap();
        assert_eq!(summary.id, event["event_id"].as_str().unwrap());
        assert!(summary.created.is_some());
    }
    assert!(seen.len() >= 2);
}
