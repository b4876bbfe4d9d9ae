//! `switchboard payments refund ID` and `switchboard outbox list|process|retry|discard`
//! (docs/CLI.md, "Outbox"). Everything sent goes through the workspace's durable outbox.

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::{Args, Subcommand};
use switchboard_app::{CommandError, ErrorCode, REFUND_REASONS};
use switchboard_core::money::decimal_string;
use switchboard_core::views::{NewRefund, OutboxItemView, OutboxRunView};

#[derive(Args, Debug)]
pub struct RefundArgs {
    /// The payment: Switchboard's id or the provider's (`ch_…`)
    payment: String,
    /// Amount in the payment currency's minor units (cents; yen for JPY); default: all that is
    /// left to refund
    #[arg(long, value_name = "MINOR")]
    amount: Option<i64>,
    /// Why: duplicate, fraudulent or requested_by_customer
    #[arg(long, value_name = "R", value_parser = clap::builder::PossibleValuesParser::new(REFUND_REASONS))]
    reason: Option<String>,
    /// Do not ask for confirmation (required when standard input is not a terminal)
    #[arg(long)]
    yes: bool,
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// What Switchboard sent or will send, newest first
    List {
        /// Only dead letters (items that failed for good)
        #[arg(long)]
        dead: bool,
        /// Print at most N items (default: all)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// Send every item that is due now
    Process,
    /// Put a dead letter back in the queue and send it now
    Retry {
        /// Outbox item id
        id: String,
    },
    /// Give up a dead letter (it stays listed as discarded)
    Discard {
        /// Outbox item id
        id: String,
    },
}

fn print_item(out: &Output, json: bool, item: &OutboxItemView) {
    if json {
        match serde_json::to_string(item) {
            Ok(s) => out.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
        return;
    }
    let detail = match item.status.as_str() {
        "succeeded" => item.result_external_id.clone().unwrap_or_default(),
        "queued" => format!(
            "next try {}",
            item.next_attempt_at.as_deref().unwrap_or("now")
        ),
        _ => String::new(),
    };
    out.line(&format!(
        "{}\t{}\t{}\t{}\tattempts {}/{}\t{}\t{}",
        item.id,
        item.created_at,
        item.status,
        item.summary,
        item.attempts,
        item.max_attempts,
        detail,
        item.last_error_message.as_deref().unwrap_or("")
    ));
}

fn code_of(item: &OutboxItemView, fallback: ErrorCode) -> ErrorCode {
    item.last_error_code
        .as_deref()
        .and_then(|c| serde_json::from_value(serde_json::Value::String(c.into())).ok())
        .unwrap_or(fallback)
}

/// Exit status from an item's state: 0 when it succeeded, else an error that says what next.
fn outcome(item: &OutboxItemView) -> Result<(), CommandError> {
    let error = item
        .last_error_message
        .as_deref()
        .unwrap_or("no error recorded");
    match item.status.as_str() {
        "succeeded" => Ok(()),
        "dead" => Err(CommandError::new(
            code_of(item, ErrorCode::ProviderError),
            format!(
                "{} failed: {error} It is a dead letter now: `switchboard outbox retry {}` sends it again, `switchboard outbox discard {}` gives it up.",
                item.summary, item.id, item.id
            ),
        )
        .retryable(false)),
        "discarded" => Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("{} was discarded.", item.summary),
        )),
        _ => Err(CommandError::new(
            code_of(item, ErrorCode::Conflict),
            match &item.last_error_message {
                Some(e) => format!(
                    "{} is not done yet: {e} It stays queued and is tried again at {} (`switchboard outbox process`, or the app, sends it).",
                    item.summary,
                    item.next_attempt_at.as_deref().unwrap_or("the next pass")
                ),
                None => format!(
                    "{} is queued; another Switchboard process is sending the outbox and will send it.",
                    item.summary
                ),
            },
        )
        .retryable(true)),
    }
}

/// `switchboard payments refund PAYMENT [--amount MINOR] [--reason R] [--yes]`.
pub async fn refund(global: &Global, out: &Output, args: RefundArgs) -> Result<(), CommandError> {
    if nothing_configured(global) {
        return Err(CommandError::new(
            ErrorCode::NotFound,
            "No payments yet: connect an account and sync first, or use --demo.",
        ));
    }
    let workspace = open(global).await?;
    let quote = workspace.refund_quote(&args.payment).await?;
    if let Some(why) = &quote.blocked_reason {
        return Err(CommandError::new(ErrorCode::InvalidInput, why.clone()));
    }
    let amount = args.amount.unwrap_or(quote.refundable_minor);
    let money = |m: i64| {
        format!(
            "{} {}",
            decimal_string(m, quote.currency_exponent),
            quote.currency
        )
    };
    crate::confirm::confirm(
        &format!(
            "Refund {} of {} (paid {}, refundable {})?",
            money(amount),
            quote.external_id,
            money(quote.amount_minor),
            money(quote.refundable_minor)
        ),
        args.yes,
        "A refund",
        "Not refunded.",
    )?;
    let item = workspace
        .refund_payment(NewRefund {
            payment: quote.payment_id.clone(),
            amount_minor: Some(amount),
            reason: args.reason,
        })
        .await?;
    print_item(out, global.json, &item);
    outcome(&item)
}

/// `switchboard outbox …`.
pub async fn run(
    global: &Global,
    out: &Output,
    command: OutboxCommand,
) -> Result<(), CommandError> {
    if nothing_configured(global) {
        return match command {
            OutboxCommand::List { .. } | OutboxCommand::Process => Ok(()),
            OutboxCommand::Retry { id } | OutboxCommand::Discard { id } => Err(CommandError::new(
                ErrorCode::NotFound,
                format!("No outbox item `{id}`."),
            )),
        };
    }
    let workspace = open(global).await?;
    match command {
        OutboxCommand::List { dead, limit } => {
            let items = workspace
                .list_outbox(dead, limit.unwrap_or(usize::MAX))
                .await?;
            if items.is_empty() {
                out.hint(if dead {
                    "No dead letters."
                } else {
                    "The outbox is empty."
                });
            }
            for item in &items {
                print_item(out, global.json, item);
            }
            Ok(())
        }
        OutboxCommand::Process => {
            let run = workspace.process_outbox().await?;
            print_run(out, global.json, &run);
            if run.dead > 0 {
                return Err(CommandError::new(
                    ErrorCode::ProviderError,
                    format!(
                        "{} item(s) became dead letters: see `switchboard outbox list --dead`.",
                        run.dead
                    ),
                ));
            }
            Ok(())
        }
        OutboxCommand::Retry { id } => {
            let item = workspace.retry_dead_letter(&id).await?;
            print_item(out, global.json, &item);
            outcome(&item)
        }
        OutboxCommand::Discard { id } => {
            let item = workspace.discard_dead_letter(&id).await?;
            print_item(out, global.json, &item);
            Ok(())
        }
    }
}

fn print_run(out: &Output, json: bool, run: &OutboxRunView) {
    if json {
        match serde_json::to_string(run) {
            Ok(s) => out.line(&s),
            Err(e) => eprintln!("cannot serialise output: {e}"),
        }
        return;
    }
    out.line(&format!(
        "processed {}\tsucceeded {} ({} found by look-up)\tretrying {}\tdead {}",
        run.processed, run.succeeded, run.found_by_lookup, run.retrying, run.dead
    ));
}
