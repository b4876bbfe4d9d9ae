//! How results, progress and errors are printed: human text, or JSON Lines with `--json`.

use std::io::{IsTerminal, Write};
use switchboard_app::CommandError;
use switchboard_core::money::decimal_string as decimal;
use switchboard_core::views::{
    ConnectionView, NetworkStatusView, PaymentView, RequestLogView, SyncProgress, SyncRunView,
};

pub struct Output {
    json: bool,
    tty: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output {
            json,
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
        let _ = stdout.flush();
    }

    /// Whether results are printed as JSON Lines (`--json`).
    pub fn is_json(&self) -> bool {
        self.json
    }

    pub fn json_line<T: serde::Serialize>(&self, value: &T) {
        match serde_json::to_string(value) {
            Ok(s) => self.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
    }

    /// A note for a person (stderr, so it never mixes with results).
    pub fn hint(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }

    /// Tells how to continue a listing cut by `--limit`.
    pub fn more(&self, cursor: &str) {
        if self.json {
            eprintln!("{}", serde_json::json!({"event": "more", "after": cursor}));
        } else {
            eprintln!("More payments follow: --after {cursor}");
        }
    }

    pub fn error(&self, e: &CommandError) {
        if self.json {
            eprintln!(
                "{}",
                serde_json::to_string(e).unwrap_or_else(|_| e.message.clone())
            );
        } else {
            eprintln!("error: {}", e.message);
        }
    }

    pub fn connection(&self, c: &ConnectionView) {
        if self.json {
            return self.json_line(c);
        }
        let schedule = c.sync_interval_minutes.map_or_else(
            || "manual sync".to_string(),
            |m| format!("syncs every {m} min"),
        );
        self.line(&format!(
            "{}\t{}\t{}\t{:?}\tlast sync {}\t{} payments\t{schedule}",
            c.name,
            c.provider,
            c.api_base,
            c.status,
            c.last_sync_at.as_deref().unwrap_or("never"),
            c.payment_count
        ));
    }

    /// A change of network state seen by the scheduler (stderr: it is not a result).
    pub fn network(&self, n: &NetworkStatusView) {
        if self.json {
            if let Ok(s) =
                serde_json::to_string(&serde_json::json!({"event": "network", "network": n}))
            {
                eprintln!("{s}");
            }
        } else if let Some(message) = &n.message {
            eprintln!("{message}");
        } else {
            eprintln!("Back online; catching up.");
        }
    }

    pub fn payment(&self, p: &PaymentView) {
        if self.json {
            return self.json_line(p);
        }
        self.line(&format!(
            "{}\t{}\t{} {}\t{}\t{}\t{}",
            p.created_at,
            p.external_id,
            decimal(p.amount_minor, p.currency_exponent),
            p.currency,
            p.status,
            p.connection,
            p.description.as_deref().unwrap_or("")
        ));
    }

    pub fn sync_run(&self, r: &SyncRunView) {
        if self.json {
            return self.json_line(r);
        }
        self.line(&format!(
            "{}\t{}\t{}\tfetched {}\tinserted {}\tupdated {}\tfailed {}\t{:.1}s",
            r.connection,
            r.stream,
            r.status,
            r.fetched,
            r.inserted,
            r.updated,
            r.failed,
            r.duration_ms.unwrap_or(0) as f64 / 1000.0
        ));
    }

    pub fn request(&self, r: &RequestLogView) {
        if self.json {
            return self.json_line(r);
        }
        let status = r
            .status
            .map_or_else(|| "---".to_string(), |s| s.to_string());
        self.line(&format!(
            "{}\t{}\t{} {}{}\t{}\tattempt {}\t{} ms\t{} B\t{}{}",
            r.at,
            r.connection,
            r.method,
            r.host,
            r.path,
            status,
            r.attempt,
            r.duration_ms,
            r.bytes,
            r.request_id.as_deref().unwrap_or("-"),
            r.error
                .as_deref()
                .map(|e| format!("\t{e}"))
                .unwrap_or_default()
        ));
    }

    /// Progress callback: JSON Lines events on stderr with `--json`; on a TTY one live bar per
    /// stream (records so far, rate, elapsed; providers give no totals, so the bar spins rather
    /// than fills); nothing otherwise.
    pub fn progress(&self) -> impl Fn(SyncProgress) + Send + Sync + 'static {
        let (json, tty) = (self.json, self.tty);
        let bars = ProgressBars::default();
        move |p: SyncProgress| {
            if json {
                if let Ok(s) =
                    serde_json::to_string(&serde_json::json!({"event": "progress", "progress": p}))
                {
                    eprintln!("{s}");
                }
            } else if tty {
                bars.update(&p);
            }
        }
    }
}

/// The live bars of one `sync run`, by (connection, stream).
#[derive(Default)]
struct ProgressBars {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::HashMap<(String, String), indicatif::ProgressBar>>,
}

impl ProgressBars {
    fn update(&self, p: &SyncProgress) {
        use indicatif::{ProgressBar, ProgressFinish, ProgressStyle};
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bars
            .entry((p.connection_id.clone(), p.stream.clone()))
            .or_insert_with(|| {
                let style = ProgressStyle::with_template(
                    "{spinner} {prefix:<22} {pos:>8} records  {rate:>10}  {elapsed:>4}  {msg}",
                )
                .expect("a valid template")
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", s.per_sec());
                    },
                )
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✓");
                let bar = ProgressBar::no_length()
                    .with_style(style)
                    .with_prefix(p.stream.clone())
                    // A bar dropped unfinished (a cancel, an error) stays as last drawn.
                    .with_finish(ProgressFinish::AndLeave);
                self.multi.add(bar)
            });
        bar.set_position(u64::try_from(p.fetched).unwrap_or(0));
        bar.set_message(format!("page {}", p.pages));
        bar.tick();
        if p.done {
            bar.finish_with_message(format!("done, {} pages", p.pages));
        }
    }
}
