//! `switchboard payments request`, `switchboard payouts list|show` and `switchboard
//! subscriptions list|cancel` (docs/CLI.md, "Payouts, subscriptions and payment requests").

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::{Args, Subcommand};
use switchboard_app::CommandError;
use switchboard_core::money::decimal_string;
use switchboard_core::views::{
    NewPaymentRequest, PaymentRequestSettingsView, PaymentRequestView, PayoutEntryView, PayoutView,
    SubscriptionView,
};

#[derive(Args, Debug)]
pub struct RequestArgs {
    /// The connection to ask through (name or id): a Stripe, PayPal or Square connection
    #[arg(long)]
    connection: String,
    /// Amount in the currency's minor units (cents; yen for JPY)
    #[arg(long, value_name = "MINOR")]
    amount: i64,
    /// ISO 4217 currency code (EUR, USD, JPY…)
    #[arg(long, value_name = "CUR")]
    currency: String,
    /// What the payment is for (shown to the customer)
    #[arg(long, value_name = "TEXT")]
    description: String,
    /// The customer's email, prefilled on the payment page
    #[arg(long, value_name = "ADDR")]
    email: Option<String>,
    /// Record that this stands in for an unavailable connection (name), as the app does
    #[arg(long, value_name = "NAME")]
    fallback_from: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PayoutsCommand {
    /// Payouts, newest first, with whether their contents add up
    List {
        /// Only this connection (name or id)
        #[arg(long)]
        connection: Option<String>,
        /// At most N payouts
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: usize,
    },
    /// One payout (Switchboard's id or the provider's) with every entry
    Show { payout: String },
}

#[derive(Subcommand, Debug)]
pub enum SubscriptionsCommand {
    /// Subscriptions, newest first
    List {
        /// Only this connection (name or id)
        #[arg(long)]
        connection: Option<String>,
    },
    /// Stop a subscription when its current period ends (through the outbox)
    Cancel {
        /// Switchboard's id or the provider's
        subscription: String,
        /// Do not ask for confirmation (required when standard input is not a terminal)
        #[arg(long)]
        yes: bool,
    },
}

fn money(minor: i64, exponent: u8, currency: &str) -> String {
    format!("{} {currency}", decimal_string(minor, exponent))
}

pub async fn request(global: &Global, out: &Output, args: RequestArgs) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let request = workspace
        .request_payment(NewPaymentRequest {
            connection: args.connection,
            amount: None,
            amount_minor: Some(args.amount),
            currency: args.currency,
            description: args.description,
            customer_email: args.email,
            fallback_from: args.fallback_from,
        })
        .await?;
    print_request(out, &request);
    Ok(())
}

#[derive(Args, Debug)]
pub struct ReturnUrlArgs {
    /// The page (an https:// address) customers land on after paying; without it, show the
    /// setting
    #[arg(conflicts_with = "clear")]
    pub url: Option<String>,
    /// Back to each provider's own confirmation page
    #[arg(long)]
    pub clear: bool,
}

pub async fn return_url(
    global: &Global,
    out: &Output,
    args: ReturnUrlArgs,
) -> Result<(), CommandError> {
    let settings = match (args.url, args.clear) {
        // Reading a workspace that was never created must not create it.
        (None, false) if nothing_configured(global) => {
            PaymentRequestSettingsView { return_url: None }
        }
        (None, false) => open(global).await?.payment_request_settings().await?,
        (url, _) => {
            open(global)
                .await?
                .set_payment_return_url(url.as_deref())
                .await?
        }
    };
    if out.is_json() {
        out.json_line(&settings);
        return Ok(());
    }
    out.line(&match &settings.return_url {
        Some(url) => format!("After paying, customers land on {url}"),
        None => "After paying, customers see the provider's own confirmation page \
                 (set your own with `switchboard payments return-url https://…`)."
            .to_string(),
    });
    Ok(())
}

fn print_request(out: &Output, r: &PaymentRequestView) {
    if out.is_json() {
        return out.json_line(r);
    }
    match (&r.url, r.status.as_str()) {
        (Some(url), _) => out.line(url),
        (None, "failed") => out.line(&format!(
            "The payment request failed: {}",
            r.error.as_deref().unwrap_or("unknown error")
        )),
        (None, status) => out.line(&format!(
            "The payment request is {status}; Switchboard keeps trying (`switchboard outbox list`). {}",
            r.error.as_deref().unwrap_or("")
        )),
    }
}

pub async fn payouts(
    global: &Global,
    out: &Output,
    command: PayoutsCommand,
) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    match command {
        PayoutsCommand::List { connection, limit } => {
            let page = workspace
                .list_payouts(connection.as_deref(), limit, None)
                .await?;
            for p in &page.items {
                print_payout(out, p);
            }
            if page.items.is_empty() && !out.is_json() {
                out.hint("No payouts yet: they arrive with a sync of Stripe or Square.");
            }
        }
        PayoutsCommand::Show { payout } => {
            let detail = workspace.get_payout(&payout).await?;
            if out.is_json() {
                out.json_line(&detail);
            } else {
                print_payout(out, &detail.payout);
                for e in &detail.entries {
                    print_entry(out, e);
                }
            }
        }
    }
    Ok(())
}

fn reconciliation(p: &PayoutView) -> String {
    match p.difference_minor {
        None => "no breakdown".to_string(),
        Some(0) => format!("adds up ({} entries)", p.entries),
        Some(d) => format!(
            "OFF BY {} ({} entries)",
            money(d, p.currency_exponent, &p.currency),
            p.entries
        ),
    }
}

fn print_payout(out: &Output, p: &PayoutView) {
    if out.is_json() {
        return out.json_line(p);
    }
    out.line(&format!(
        "{}\t{}\t{}\t{}\tarrives {}\t{}\t{}",
        p.created_at,
        p.external_id,
        money(p.amount_minor, p.currency_exponent, &p.currency),
        p.status,
        p.arrival_date.as_deref().unwrap_or("-"),
        p.connection,
        reconciliation(p)
    ));
}

fn print_entry(out: &Output, e: &PayoutEntryView) {
    out.line(&format!(
        "  {}\t{}\t{}\tgross {}\tfee {}\tnet {}",
        e.created_at,
        e.kind,
        e.source_external_id.as_deref().unwrap_or(&e.external_id),
        decimal_string(e.gross_minor, e.currency_exponent),
        decimal_string(e.fee_minor, e.currency_exponent),
        money(e.net_minor, e.currency_exponent, &e.currency)
    ));
}

pub async fn subscriptions(
    global: &Global,
    out: &Output,
    command: SubscriptionsCommand,
) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    match command {
        SubscriptionsCommand::List { connection } => {
            let list = workspace.list_subscriptions(connection.as_deref()).await?;
            for s in &list {
                print_subscription(out, s);
            }
            if list.is_empty() && !out.is_json() {
                out.hint("No subscriptions stored: they arrive with a sync of Stripe or Square.");
            }
        }
        SubscriptionsCommand::Cancel { subscription, yes } => {
            let found = workspace
                .list_subscriptions(None)
                .await?
                .into_iter()
                .find(|s| s.id == subscription || s.external_id == subscription);
            let question = match &found {
                Some(s) => format!(
                    "Stop {} for {} after its current period{}?",
                    s.external_id,
                    s.customer.as_deref().unwrap_or("this customer"),
                    s.next_charge_at
                        .as_deref()
                        .map(|at| format!(" (ends {at})"))
                        .unwrap_or_default()
                ),
                None => format!("Stop subscription {subscription} after its current period?"),
            };
            crate::confirm::confirm(
                &question,
                yes,
                "Cancelling a subscription",
                "Not cancelled.",
            )?;
            let s = workspace.cancel_subscription(&subscription).await?;
            print_subscription(out, &s);
        }
    }
    Ok(())
}

/// What a subscription is for and what it charges: `Pro plan · 29.00 USD every month`,
/// `Box · every 3 months` (priced by what is ordered), `-` when nothing is known.
fn plan_and_price(s: &SubscriptionView) -> String {
    let every = s.interval.as_deref().map(|unit| match s.interval_count {
        Some(n) if n > 1 => format!("every {n} {unit}s"),
        _ => format!("every {unit}"),
    });
    let price = match (s.amount_minor, &s.currency, s.currency_exponent) {
        (Some(a), Some(c), Some(e)) => Some(match &every {
            Some(every) => format!("{} {every}", money(a, e, c)),
            None => money(a, e, c),
        }),
        _ => every,
    };
    let parts: Vec<String> = [s.description.clone(), price]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" · ")
    }
}

fn print_subscription(out: &Output, s: &SubscriptionView) {
    if out.is_json() {
        return out.json_line(s);
    }
    let price = plan_and_price(s);
    let state = if s.cancel_pending {
        "cancel pending".to_string()
    } else if s.cancel_at_period_end {
        "ends at period end".to_string()
    } else {
        s.status.clone()
    };
    out.line(&format!(
        "{}\t{}\t{}\t{}\tnext {}\t{}",
        s.external_id,
        s.customer.as_deref().unwrap_or("-"),
        price,
        state,
        s.next_charge_at.as_deref().unwrap_or("-"),
        s.connection
    ));
}
