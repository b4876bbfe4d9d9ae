//! `switchboard health`, `switchboard connections test NAME` and
//! `switchboard connections set-budget NAME …` (docs/CLI.md).

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::Args;
use switchboard_app::{CommandError, ErrorCode};
use switchboard_core::catalogue::RateLimits;
use switchboard_core::views::{CircuitState, ConnectionHealthView, ConnectionTestView};

/// Exit status of `health` when something needs attention.
const ATTENTION: u8 = 1;
/// Exit status of `health` when it could not find out (the workspace would not open, …).
const CHECK_FAILED: u8 = 3;

#[derive(Args, Debug)]
pub struct HealthArgs {
    /// Only this connection (name or id)
    #[arg(long)]
    connection: Option<String>,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Connection name or id
    name: String,
}

#[derive(Args, Debug)]
pub struct SetBudgetArgs {
    /// Connection name or id
    name: String,
    /// Requests per second
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    per_second: Option<u32>,
    /// Requests per minute
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    per_minute: Option<u32>,
    /// Requests per day (reset as the provider's catalogue entry says)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    per_day: Option<u32>,
    /// Requests under way at once
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    concurrent: Option<u32>,
    /// Drop the override: back to the provider's documented budget
    #[arg(long, conflicts_with_all = ["per_second", "per_minute", "per_day", "concurrent"])]
    catalogue: bool,
}

fn print_health(out: &Output, json: bool, h: &ConnectionHealthView) {
    if json {
        match serde_json::to_string(h) {
            Ok(s) => out.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
        return;
    }
    let circuit = match h.circuit {
        CircuitState::Closed => "circuit closed".to_string(),
        CircuitState::Open => format!(
            "circuit OPEN until {}",
            h.circuit_retry_at.as_deref().unwrap_or("?")
        ),
        CircuitState::HalfOpen => "circuit half-open (testing)".to_string(),
    };
    let daily = match (h.budget.daily_left, h.budget.limits.per_day) {
        (Some(left), Some(limit)) => format!("{left}/{limit} left today"),
        _ => "no daily budget".to_string(),
    };
    out.line(&format!(
        "{}\t{}\t{}\t{}\t{}\t{}\tlast success {}",
        h.connection,
        h.provider,
        if h.needs_attention { "ATTENTION" } else { "ok" },
        circuit,
        budget_text(&h.budget.limits, h.budget.overridden),
        daily,
        h.last_success_at.as_deref().unwrap_or("never"),
    ));
    for reason in &h.reasons {
        out.line(&format!("  - {reason}"));
    }
}

fn budget_text(l: &RateLimits, overridden: bool) -> String {
    let mut parts = Vec::new();
    if let Some(n) = l.per_second {
        parts.push(format!("{n}/s"));
    }
    if let Some(n) = l.per_minute {
        parts.push(format!("{n}/min"));
    }
    if let Some(n) = l.per_day {
        parts.push(format!("{n}/day"));
    }
    if let Some(n) = l.concurrent {
        parts.push(format!("{n} at once"));
    }
    let text = if parts.is_empty() {
        "no rate limit".to_string()
    } else {
        parts.join(", ")
    };
    if overridden {
        format!("budget {text} (override)")
    } else {
        format!("budget {text}")
    }
}

/// `switchboard health`: exit 0 when all is well, 1 when something needs attention, 3 when
/// health could not be checked. Exits the process itself (its codes differ from the others').
pub async fn health(global: &Global, out: &Output, args: HealthArgs) -> ! {
    // `check` has closed the workspace by the time it returns.
    let code = match check(global, out, args).await {
        Ok(true) => ATTENTION,
        Ok(false) => 0,
        Err(e) => {
            out.error(&e);
            CHECK_FAILED
        }
    };
    std::process::exit(i32::from(code))
}

/// Prints every connection's health; whether any needs attention.
async fn check(global: &Global, out: &Output, args: HealthArgs) -> Result<bool, CommandError> {
    if nothing_configured(global) {
        if let Some(name) = args.connection {
            return Err(CommandError::new(
                ErrorCode::NotFound,
                format!("No connection `{name}`."),
            ));
        }
        out.hint("No connections yet: nothing to check.");
        return Ok(false);
    }
    let workspace = open(global).await?;
    let connections = match &args.connection {
        Some(name) => vec![workspace.connection_health(name).await?],
        None => workspace.health().await?.connections,
    };
    if connections.is_empty() {
        out.hint("No connections yet: nothing to check.");
    }
    for h in &connections {
        print_health(out, global.json, h);
    }
    Ok(connections.iter().any(|h| h.needs_attention))
}

/// `switchboard connections test NAME`: one cheap authenticated call; exit 1 if it failed.
pub async fn test(global: &Global, out: &Output, args: TestArgs) -> Result<(), CommandError> {
    if nothing_configured(global) {
        return Err(CommandError::new(
            ErrorCode::NotFound,
            format!("No connection `{}`.", args.name),
        ));
    }
    let workspace = open(global).await?;
    let result: ConnectionTestView = workspace.test_connection(&args.name).await?;
    if global.json {
        out.line(&serde_json::to_string(&result).unwrap_or_default());
    } else if result.ok {
        out.line(&format!(
            "{}: OK ({} ms)",
            result.health.connection, result.duration_ms
        ));
    }
    match result.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `switchboard connections set-budget NAME …`: overrides the connection's request budget
/// (limits not given are then unlimited), or with `--catalogue` goes back to the documented one.
pub async fn set_budget(
    global: &Global,
    out: &Output,
    args: SetBudgetArgs,
) -> Result<(), CommandError> {
    let limits = RateLimits {
        per_second: args.per_second,
        per_minute: args.per_minute,
        per_day: args.per_day,
        concurrent: args.concurrent,
    };
    if !args.catalogue && limits.is_unlimited() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            "Give at least one of --per-second, --per-minute, --per-day, --concurrent, or \
             --catalogue to go back to the provider's documented budget.",
        ));
    }
    if nothing_configured(global) {
        return Err(CommandError::new(
            ErrorCode::NotFound,
            format!("No connection `{}`.", args.name),
        ));
    }
    let workspace = open(global).await?;
    let health = workspace
        .set_rate_limits(&args.name, (!args.catalogue).then_some(limits))
        .await?;
    print_health(out, global.json, &health);
    Ok(())
}
