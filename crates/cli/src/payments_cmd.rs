//! `switchboard payments list|export` and `switchboard dashboard` (docs/CLI.md, "Payments").

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::Args;
use std::path::PathBuf;
use switchboard_app::{CommandError, PaymentQuery};
use switchboard_core::money::decimal_string;
use switchboard_core::views::{DashboardView, PaymentFilter, TotalsRow};

/// Which payments: the same filter as the Payments screen.
#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only this provider (stripe, paypal, square)
    #[arg(long)]
    provider: Option<String>,
    /// Only this connection (name or id)
    #[arg(long)]
    connection: Option<String>,
    /// Only this status (succeeded, pending, failed, unknown)
    #[arg(long)]
    status: Option<String>,
    /// Only this currency (ISO 4217, e.g. EUR)
    #[arg(long)]
    currency: Option<String>,
    /// Created on or after this day (YYYY-MM-DD, UTC) or time (RFC 3339)
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Created before this day (YYYY-MM-DD, UTC; the day itself excluded) or time
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Smallest amount, a decimal in each payment's currency (12.50)
    #[arg(long, value_name = "AMOUNT")]
    min_amount: Option<String>,
    /// Largest amount, a decimal in each payment's currency
    #[arg(long, value_name = "AMOUNT")]
    max_amount: Option<String>,
    /// Words in the customer, email, description or provider id
    #[arg(long, value_name = "WORDS")]
    search: Option<String>,
}

impl From<FilterArgs> for PaymentFilter {
    fn from(a: FilterArgs) -> PaymentFilter {
        PaymentFilter {
            provider: a.provider,
            connection: a.connection,
            status: a.status,
            currency: a.currency,
            from: a.from,
            to: a.to,
            min_amount: a.min_amount,
            max_amount: a.max_amount,
            search: a.search,
        }
    }
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Print at most N payments (default: all)
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Start after this cursor (printed by a previous `--limit` listing on stderr)
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// The CSV file to write (replaced if it exists)
    #[arg(long, value_name = "FILE")]
    to_file: PathBuf,
}

#[derive(Args, Debug)]
pub struct DashboardArgs {
    /// First day (YYYY-MM-DD, UTC); default: the first day of this month
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day, included (YYYY-MM-DD, UTC); default: the last day of the start's month
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
}

pub async fn list(global: &Global, out: &Output, args: ListArgs) -> Result<(), CommandError> {
    if nothing_configured(global) {
        return Ok(());
    }
    let workspace = open(global).await?;
    let filter = PaymentFilter::from(args.filter);
    let mut remaining = args.limit;
    let mut after = args.after;
    loop {
        let page_size = remaining.map_or(1000, |r| r.min(1000));
        if page_size == 0 {
            break;
        }
        let page = workspace
            .list_payments(PaymentQuery {
                filter: filter.clone(),
                limit: Some(page_size),
                after: after.clone(),
                with_total: false,
            })
            .await?;
        for p in &page.items {
            out.payment(p);
        }
        if let Some(r) = remaining.as_mut() {
            *r -= page.items.len();
        }
        match page.next_cursor {
            Some(next) if remaining != Some(0) => after = Some(next),
            Some(next) => {
                out.more(&next);
                break;
            }
            None => break,
        }
    }
    Ok(())
}

pub async fn export(global: &Global, out: &Output, args: ExportArgs) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let count = workspace
        .export_payments_csv(args.filter.into(), &args.to_file)
        .await?;
    if out.is_json() {
        out.json_line(&serde_json::json!({
            "exported": count,
            "file": args.to_file.display().to_string(),
        }));
    } else {
        out.line(&format!(
            "Exported {count} payment(s) to {}",
            args.to_file.display()
        ));
    }
    Ok(())
}

pub async fn dashboard(
    global: &Global,
    out: &Output,
    args: DashboardArgs,
) -> Result<(), CommandError> {
    let workspace = open(global).await?;
    let today = chrono::Utc::now().date_naive();
    let from = match &args.from {
        Some(from) => from.clone(),
        None => switchboard_app::month_of(today).0.to_string(),
    };
    let to = match &args.to {
        Some(to) => to.clone(),
        None => chrono::NaiveDate::parse_from_str(&from, "%Y-%m-%d")
            .map(|d| switchboard_app::month_of(d).1.to_string())
            .unwrap_or_else(|_| from.clone()),
    };
    let view = workspace.dashboard(&from, &to).await?;
    if out.is_json() {
        out.json_line(&view);
    } else {
        print_dashboard(out, &view);
    }
    Ok(())
}

fn print_dashboard(out: &Output, view: &DashboardView) {
    out.line(&format!("{} to {} (UTC)", view.from, view.to));
    if view.by_currency.is_empty() {
        out.line("No payments, refunds or payouts in this range.");
        return;
    }
    out.line("currency\tprovider\tpayments\tgross\tfees\trefunded\tnet\tpayouts");
    let row = |r: &TotalsRow, who: &str| {
        let m = |v: i64| decimal_string(v, r.currency_exponent);
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.currency,
            who,
            r.totals.payments,
            m(r.totals.gross_minor),
            m(r.totals.fee_minor),
            m(r.totals.refunded_minor),
            m(r.totals.net_minor),
            m(r.totals.payout_minor)
        )
    };
    for total in &view.by_currency {
        for p in view
            .by_provider
            .iter()
            .filter(|p| p.currency == total.currency)
        {
            out.line(&row(p, &p.provider));
        }
        out.line(&row(total, "all"));
    }
}
