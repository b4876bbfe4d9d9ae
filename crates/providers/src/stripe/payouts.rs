//! The `payouts` stream: each page is a page of payouts AND, for each of them, every balance
//! transaction it paid out (`GET /v1/balance_transactions?payout=po_…`, paged on its own), as
//! [`Record::PayoutEntry`]. A payout and its entries commit in the same transaction, so a
//! stored payout is never half-listed.
//!
//! Only automatic payouts whose reconciliation is `completed` can be listed that way ("for
//! automatic Stripe payouts only", says the spec of the `payout` filter; Stripe answers 400 for
//! a manual one), so others are stored without entries. Entries are read once per payout:
//! for payouts this stream has not seen before, and, for one it saw before its reconciliation
//! completed, by the events stream when `payout.reconciliation_completed` (or `payout.paid`)
//! arrives. The stream's lookback ([`PAYOUT_LOOKBACK_SECS`]) reads recent payouts again for
//! their status (one request), not their entries.

use super::objects::{parse_payout_entry_raw, parse_payout_full};
use super::{ListEnvelope, ObjectHead, PAGE_LIMIT, Stripe, bad_shape, stripe_exponent};
use crate::{Page, PageRequest, ProviderError, ProviderErrorKind, Record, Rejected};
use switchboard_core::Currency;
use switchboard_core::records::PayoutRecord;

/// Payouts per page of a first listing: each brings its own entry requests, so a page
/// (committed whole) stays a few hundred objects. Incremental runs read mostly payouts seen
/// before (for their status, without entries), 100 a page like every list.
pub const PAYOUT_PAGE_LIMIT: u32 = 20;

/// How far back an incremental payouts run reads again: ten days, longer than a standard
/// payout takes to arrive (a few business days), so its status moves on in the store.
pub const PAYOUT_LOOKBACK_SECS: i64 = 10 * 24 * 60 * 60;

/// The most entry pages (100 each) read for one payout before the page fails: a payout of more
/// than 100,000 transactions is not one a small business has.
const MAX_ENTRY_PAGES: usize = 1_000;

impl Stripe {
    pub(super) async fn payouts_page(&self, request: &PageRequest) -> Result<Page, ProviderError> {
        // The newest payout the last run saw: the engine starts the run the lookback before it.
        let seen_until = request.created_gte.map(|gte| gte + PAYOUT_LOOKBACK_SECS);
        let limit = if seen_until.is_some() {
            PAGE_LIMIT
        } else {
            PAYOUT_PAGE_LIMIT
        };
        self.payouts_list_page(
            request.created_gte,
            request.starting_after.as_deref(),
            limit,
            |p| seen_until.is_none_or(|seen| p.created > seen),
        )
        .await
    }

    /// A page of payouts created at or after `created_gte`, after `starting_after`, with the
    /// entries of each listable payout for which `wants_entries` holds.
    pub(super) async fn payouts_list_page(
        &self,
        created_gte: Option<i64>,
        starting_after: Option<&str>,
        limit: u32,
        wants_entries: impl Fn(&PayoutRecord) -> bool,
    ) -> Result<Page, ProviderError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(gte) = created_gte {
            query.push(("created[gte]", gte.to_string()));
        }
        if let Some(after) = starting_after {
            query.push(("starting_after", after.to_string()));
        }
        let (body, request_id) = self.get_bytes("/v1/payouts", &query).await?;
        let envelope: ListEnvelope<'_> =
            serde_json::from_slice(&body).map_err(|e| super::unreadable(e, &request_id))?;
        let data = envelope.data.ok_or_else(|| bad_shape("no `data` array"))?;
        let has_more = envelope
            .has_more
            .ok_or_else(|| bad_shape("no `has_more`"))?;
        let mut page = Page {
            has_more,
            fetched: data.len(),
            request_id,
            ..Page::default()
        };
        for object in data {
            let raw = object.get();
            let head: ObjectHead<'_> = serde_json::from_str(raw).unwrap_or_default();
            if let Some(id) = &head.id {
                page.last_id = Some(id.to_string());
            }
            if let Some(created) = head.created {
                page.max_created = Some(page.max_created.map_or(created, |m| m.max(created)));
            }
            let payout = match parse_payout_full(raw, &mut page.warnings) {
                Ok(p) => p,
                Err(reason) => {
                    page.rejected.push(Rejected {
                        external_id: head.id.map(|id| id.into_owned()),
                        reason,
                    });
                    continue;
                }
            };
            if payout.contents_listable && wants_entries(&payout.record) {
                self.payout_entries(&payout.record, &mut page).await?;
            }
            page.records.push(Record::Payout(payout.record));
        }
        if page.has_more && page.last_id.is_none() {
            return Err(bad_shape("has_more without object ids"));
        }
        Ok(page)
    }

    /// The entries of the payouts `ids` among `page`'s records (those whose contents Stripe
    /// can list), into `page`.
    pub(super) async fn entries_of(
        &self,
        ids: &[String],
        page: &mut Page,
    ) -> Result<(), ProviderError> {
        let mut listable = Vec::new();
        for record in &page.records {
            if let Record::Payout(p) = record
                && ids.contains(&p.external_id)
                && parse_payout_full(&p.raw_json, &mut Vec::new())
                    .is_ok_and(|f| f.contents_listable)
            {
                listable.push(p.clone());
            }
        }
        for payout in &listable {
            self.payout_entries(payout, page).await?;
        }
        Ok(())
    }

    /// Every balance transaction of `payout` into `page` as entries, and a warning when their
    /// net does not add up to the payout's amount.
    async fn payout_entries(
        &self,
        payout: &PayoutRecord,
        page: &mut Page,
    ) -> Result<(), ProviderError> {
        let id = &payout.external_id;
        let mut after: Option<String> = None;
        let mut net_in_stripe_units: i64 = 0;
        let mut complete = true;
        for _ in 0..MAX_ENTRY_PAGES {
            let mut query = vec![("payout", id.clone()), ("limit", PAGE_LIMIT.to_string())];
            if let Some(a) = &after {
                query.push(("starting_after", a.clone()));
            }
            let (body, request_id) = self.get_bytes("/v1/balance_transactions", &query).await?;
            let envelope: ListEnvelope<'_> =
                serde_json::from_slice(&body).map_err(|e| super::unreadable(e, &request_id))?;
            let data = envelope.data.ok_or_else(|| bad_shape("no `data` array"))?;
            let has_more = envelope
                .has_more
                .ok_or_else(|| bad_shape("no `has_more`"))?;
            page.fetched += data.len();
            after = None;
            for object in data {
                let raw = object.get();
                let head: ObjectHead<'_> = serde_json::from_str(raw).unwrap_or_default();
                after = head.id.as_deref().map(str::to_string).or(after);
                match parse_payout_entry_raw(raw, id, &mut page.warnings) {
                    Ok(Some(entry)) => {
                        net_in_stripe_units = net_in_stripe_units.saturating_add(stripe_units(
                            entry.net_minor,
                            &entry.currency,
                            entry.currency_exponent,
                        ));
                        page.records.push(Record::PayoutEntry(entry));
                    }
                    Ok(None) => {}
                    Err(reason) => {
                        complete = false;
                        page.rejected.push(Rejected {
                            external_id: head.id.map(|id| id.into_owned()),
                            reason: format!("in payout {id}: {reason}"),
                        });
                    }
                }
            }
            if !has_more {
                let amount = stripe_units(
                    payout.amount_minor,
                    &payout.currency,
                    payout.currency_exponent,
                );
                if complete && net_in_stripe_units != amount {
                    page.warnings.push(format!(
                        "Payout {id} does not add up: its transactions net {} but it paid out {} ({}); check it in the Stripe Dashboard (Balances → Payouts).",
                        net_in_stripe_units, amount, payout.currency
                    ));
                }
                return Ok(());
            }
            if after.is_none() {
                return Err(bad_shape("has_more without object ids"));
            }
        }
        Err(ProviderError::new(
            ProviderErrorKind::BadResponse,
            format!(
                "Payout {id} lists more than {} transactions; Switchboard stopped reading them.",
                MAX_ENTRY_PAGES * PAGE_LIMIT as usize
            ),
        ))
    }
}

/// An amount of ours back in Stripe's units (so amounts stored with different exponents
/// compare).
fn stripe_units(amount_minor: i64, currency: &str, exponent: u8) -> i64 {
    let Ok(currency) = Currency::parse(currency) else {
        return amount_minor;
    };
    let shift = stripe_exponent(currency).saturating_sub(exponent);
    amount_minor.saturating_mul(10i64.saturating_pow(u32::from(shift)))
}
