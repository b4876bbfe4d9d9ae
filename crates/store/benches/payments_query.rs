//! Benchmark (not a test; outside CI: it writes about 1 GB): the Payments screen's queries at
//! a million payments. Prints the time of the first page, a page 10,000 rows deep filtered by
//! provider, status and date range, a full-text search for a term in about 1% of payments
//! (first 50 results), and the dashboard's totals for a month and a year. Targets (issue 6):
//! page < 5 ms, search < 30 ms, dashboard < 100 ms.
//!
//! Run: `cargo bench -p switchboard-store --bench payments_query`.
//! `SWITCHBOARD_BENCH_PAYMENTS` changes the size (default 1,000,000);
//! `SWITCHBOARD_BENCH_DIR` keeps the database in a folder of your choice (default: a temp dir).

use std::time::{Duration, Instant};
use switchboard_core::records::PaymentRecord;
use switchboard_core::views::PaymentFilter;
use switchboard_store::connections::{self, NewConnection};
use switchboard_store::totals::{self, Bucket};
use switchboard_store::{Store, payments};

const PAGE: usize = 50;
/// 2024-01-01T00:00:00Z: payments spread over three years from here.
const START: i64 = 1_704_067_200;
const SPAN: i64 = 3 * 365 * 86_400;
/// In about 1% of descriptions.
const RARE_TERM: &str = "ziggurat";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds {
        let started = Instant::now();
        last = Some(f());
        samples.push(started.elapsed());
    }
    (median(samples), last.expect("at least one round"))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A small deterministic generator (the data must be the same on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

const NAMES: [&str; 12] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus",
    "Radia", "Tim",
];
const WORDS: [&str; 10] = [
    "Order",
    "Deposit",
    "Invoice",
    "Quote",
    "Subscription",
    "Repair",
    "Lesson",
    "Booking",
    "Catering",
    "Consulting",
];

fn generate(store: &Store, count: usize) {
    let conn = &mut *store.conn();
    for (id, provider) in [
        ("stripe1", "stripe"),
        ("paypal1", "paypal"),
        ("square1", "square"),
    ] {
        connections::insert(
            conn,
            &NewConnection {
                id,
                provider,
                name: id,
                account_id: None,
                api_base: "http://127.0.0.1:9",
            },
        )
        .expect("connection");
    }
    let mut rng = Lcg(42);
    let started = Instant::now();
    let batch = 10_000;
    for chunk in 0..count.div_ceil(batch) {
        let tx = conn.transaction().expect("tx");
        for connection in ["stripe1", "paypal1", "square1"] {
            let rows: Vec<PaymentRecord> = (0..batch / 3 + 1)
                .map(|i| chunk * batch + i)
                .map(|n| {
                    let (currency, exponent, amount) = match rng.next(10) {
                        0 => ("JPY", 0u8, 500 + rng.next(50_000) as i64),
                        1 => ("USD", 2, 100 + rng.next(500_000) as i64),
                        _ => ("EUR", 2, 100 + rng.next(500_000) as i64),
                    };
                    let name = NAMES[rng.next(NAMES.len() as u64) as usize];
                    let word = WORDS[rng.next(WORDS.len() as u64) as usize];
                    let description = if rng.next(100) == 0 {
                        format!("{word} at the {RARE_TERM} {n}")
                    } else {
                        format!("{word} {n}")
                    };
                    let fee = amount * 29 / 1000 + 30;
                    PaymentRecord {
                        external_id: format!("{connection}_{n}"),
                        amount_minor: amount,
                        refunded_minor: 0,
                        currency: currency.into(),
                        currency_exponent: exponent,
                        status: ["succeeded", "succeeded", "succeeded", "failed", "pending"]
                            [rng.next(5) as usize]
                            .into(),
                        customer: Some(format!("{name} {}", rng.next(5_000))),
                        customer_email: Some(format!("{}{}@example.com", name.to_lowercase(), n % 997)),
                        description: Some(description),
                        balance_transaction_external_id: None,
                        created: START + rng.next(SPAN as u64) as i64,
                        raw_json: format!("{{\"id\":\"{connection}_{n}\",\"object\":\"payment\",\"amount\":{amount}}}"),
                        fee_minor: Some(fee),
                        net_minor: Some(amount - fee),
                        method: Some("card".into()),
                        settlement: None,
                    }
                })
                .collect();
            payments::upsert_many(&tx, connection, &rows).expect("insert");
        }
        tx.commit().expect("commit");
    }
    println!(
        "bench payments_generate rows={} seconds={:.1}",
        payments::count(conn, &PaymentFilter::default()).expect("count"),
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let count: usize = std::env::var("SWITCHBOARD_BENCH_PAYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let temp = tempfile::tempdir().expect("temp dir");
    let folder = std::env::var_os("SWITCHBOARD_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temp.path().to_path_buf());
    let reuse = folder.join(switchboard_store::DB_FILE).exists();
    let store = Store::open_folder(&folder).expect("store");
    if !reuse {
        generate(&store, count);
    }
    let conn = store.conn();
    let rows = payments::count(&conn, &PaymentFilter::default()).expect("count");

    let all = PaymentFilter::default();
    let (first, (items, _)) = time(50, || {
        payments::page(&conn, &all, PAGE, None).expect("page")
    });
    assert_eq!(items.len(), PAGE);

    // A page 10,000 rows deep of Stripe's succeeded payments in 2025.
    let filtered = PaymentFilter {
        provider: Some("stripe".into()),
        status: Some("succeeded".into()),
        from: Some("2025-01-01".into()),
        to: Some("2026-01-01".into()),
        ..PaymentFilter::default()
    };
    let mut after: Option<String> = None;
    let mut depth = 0;
    while depth < 10_000 {
        let (items, next) =
            payments::page(&conn, &filtered, 1_000, after.as_deref()).expect("walk");
        depth += items.len();
        after = next;
        assert!(after.is_some(), "fewer than 10,000 matching payments");
    }
    let (deep, (items, _)) = time(50, || {
        payments::page(&conn, &filtered, PAGE, after.as_deref()).expect("deep page")
    });
    assert_eq!(items.len(), PAGE);
    let (filtered_count_time, filtered_count) =
        time(5, || payments::count(&conn, &filtered).expect("count"));

    let search = PaymentFilter {
        search: Some(RARE_TERM.into()),
        ..PaymentFilter::default()
    };
    let (search_time, (found, _)) = time(20, || {
        payments::page(&conn, &search, 50, None).expect("search")
    });
    assert_eq!(found.len(), 50);
    let (search_count_time, matches) =
        time(5, || payments::count(&conn, &search).expect("search count"));

    let dashboard = |from: i64, to: i64, bucket: Bucket| {
        (
            totals::by_provider(&conn, from, to).expect("providers"),
            totals::by_currency(&conn, from, to).expect("currencies"),
            totals::series(&conn, from, to, bucket).expect("series"),
        )
    };
    let month = (1_748_736_000, 1_751_328_000); // June 2025
    let year = (1_735_689_600, 1_767_225_600); // 2025
    let (month_time, (_, month_totals, _)) = time(20, || dashboard(month.0, month.1, Bucket::Day));
    let (year_time, (_, year_totals, series)) =
        time(20, || dashboard(year.0, year.1, Bucket::Month));
    assert!(!month_totals.is_empty() && !year_totals.is_empty() && series.len() >= 12);

    println!(
        "bench payments_query rows={rows} first_page_ms={} deep_filtered_page_ms={} \
         deep_depth={depth} filtered_count_ms={} filtered_matches={filtered_count}",
        ms(first),
        ms(deep),
        ms(filtered_count_time)
    );
    println!(
        "bench payments_search term={RARE_TERM} matches={matches} first_50_ms={} count_ms={}",
        ms(search_time),
        ms(search_count_time)
    );
    println!(
        "bench dashboard month_ms={} year_ms={} (targets: page < 5 ms, search < 30 ms, dashboard < 100 ms)",
        ms(month_time),
        ms(year_time)
    );
    let size = std::fs::metadata(folder.join(switchboard_store::DB_FILE)).map_or(0, |m| m.len());
    println!(
        "bench payments_db bytes={size} bytes_per_payment={}",
        size / rows.max(1) as u64
    );
}
