//! Desktop notifications about sign-ins: one when a connection needs the user to sign in again,
//! one when a sign-in will lapse whatever the app does (MYOB's yearly consent, a refresh token's
//! hard expiry) within the warning window. Each is given once: what was announced is kept in
//! the settings table, so a restart does not repeat it.

use crate::workspace::Workspace;
use crate::{Result, sync::blocking};
use switchboard_core::views::TokenState;
use switchboard_store::settings;

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInNotice {
    pub connection_id: String,
    pub title: String,
    pub body: String,
}

impl Workspace {
    /// The sign-in notifications not given yet, marking them given.
    pub async fn sign_in_notices(&self) -> Result<Vec<SignInNotice>> {
        let mut notices = Vec::new();
        for h in self.health().await?.connections {
            let (mark, title, body) = match h.token {
                TokenState::Revoked => (
                    "reconnect".to_string(),
                    format!("{} needs you to sign in again", h.connection),
                    "Its access was ended or has expired, so it is not syncing. Open Switchboard \
                     and click Reconnect; nothing is lost."
                        .to_string(),
                ),
                TokenState::Expiring => {
                    let at = h.token_lapses_at.clone().unwrap_or_default();
                    let day = at.get(..10).unwrap_or(&at).to_string();
                    (
                        format!("lapses:{at}"),
                        format!("{}'s sign-in ends on {day}", h.connection),
                        "The provider ends it on that day whatever Switchboard does. Open \
                         Switchboard and click Reconnect before then to keep syncing."
                            .to_string(),
                    )
                }
                TokenState::Valid | TokenState::NotApplicable => continue,
            };
            let key = format!("notified.sign_in.{}", h.connection_id);
            let (check_key, check_mark) = (key.clone(), mark.clone());
            let already = blocking(&self.store, move |s| settings::get(&s.conn(), &check_key))
                .await?
                .is_some_and(|given| given == check_mark);
            if already {
                continue;
            }
            blocking(&self.store, move |s| settings::set(&s.conn(), &key, &mark)).await?;
            notices.push(SignInNotice {
                connection_id: h.connection_id,
                title,
                body,
            });
        }
        Ok(notices)
    }
}
