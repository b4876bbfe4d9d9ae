//! `switchboard payments requests`: payment requests, newest first, with their status. Open
//! PayPal requests are looked up first (an approved order is captured, a voided or too old one
//! expires), so the list says what came of each (docs/CLI.md, "Payment requests").

use crate::output::Output;
use crate::{Global, nothing_configured, open};
use clap::Args;
use switchboard_app::CommandError;
use switchboard_core::money::decimal_string;
use switchboard_core::views::PaymentRequestView;

#[derive(Args, Debug)]
pub struct RequestsArgs {
    /// At most N requests, newest first
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
    /// List what is stored without asking PayPal first
    #[arg(long)]
    no_check: bool,
}

pub async fn list(global: &Global, out: &Output, args: RequestsArgs) -> Result<(), CommandError> {
    // Listing a workspace that was never created must not create it.
    if nothing_configured(global) {
        out.hint("No payment requests yet: make one with `switchboard payments request`.");
        return Ok(());
    }
    let workspace = open(global).await?;
    if !args.no_check {
        let check = workspace.check_payment_requests().await?;
        // The list still shows what is known; a look-up that failed is tried again later.
        for why in &check.errors {
            out.hint(&format!("A PayPal request could not be checked: {why}"));
        }
    }
    let requests = workspace.list_payment_requests(args.limit).await?;
    if requests.is_empty() {
        out.hint("No payment requests yet: make one with `switchboard payments request`.");
    }
    for r in &requests {
        print(out, r);
    }
    Ok(())
}

fn print(out: &Output, r: &PaymentRequestView) {
    if out.is_json() {
        return out.json_line(r);
    }
    let detail = match r.status.as_str() {
        "paid" => format!(
            "payment {}",
            r.payment_external_id.as_deref().unwrap_or("?")
        ),
        "expired" | "failed" | "approved" | "capture_failed" | "capture_discarded"
            if r.error.is_some() =>
        {
            r.error.clone().unwrap_or_default()
        }
        _ => r.url.clone().unwrap_or_default(),
    };
    out.line(&format!(
        "{}\t{}\t{} {}\t{}\t{}\t{}",
        r.created_at,
        r.status,
        decimal_string(r.amount_minor, r.currency_exponent),
        r.currency,
        r.connection,
        r.description,
        detail
    ));
}
