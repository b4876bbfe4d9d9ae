//! Disconnecting a connection (revoke at the provider where it offers revocation, then forget
//! every secret; the data stays) and, separately, deleting a connection with its data.

use crate::workspace::Workspace;
use crate::{Result, errors, sync::blocking};
use switchboard_core::catalogue::{self, RevokeStyle};
use switchboard_core::views::{ConnectionStatus, DisconnectView, RevocationOutcome};
use switchboard_store::{connections, oauth_grants};

impl Workspace {
    /// Ends a connection: revokes its OAuth grant at the provider where it can (a failure there
    /// is reported, not fatal), then removes its tokens, keys and client secret in one
    /// transaction and marks it `disconnected`. Its payments, runs and logs stay; Reconnect
    /// brings it back on the same row.
    pub async fn disconnect(&self, connection: &str) -> Result<DisconnectView> {
        let c = self.find_connection(connection).await?;
        let provider = catalogue::provider(&c.provider);
        let display = provider.map_or(c.provider.as_str(), |p| p.display_name);
        let (revoked, message) = match provider.and_then(|p| p.oauth) {
            Some(info) if c.status != ConnectionStatus::Disconnected => {
                match self.revoke_at_provider(&c).await {
                    Ok(()) if info.revoke_style == RevokeStyle::NotOffered => (
                        RevocationOutcome::NotOffered,
                        format!(
                            "Switchboard forgot its sign-in. {display} offers no way for apps to \
                             end their access: remove Switchboard from the connected apps in \
                             your {display} account if you no longer want it there."
                        ),
                    ),
                    Ok(()) => (
                        RevocationOutcome::Revoked,
                        format!(
                            "{display} ended Switchboard's access, and Switchboard forgot its sign-in."
                        ),
                    ),
                    Err(e) => {
                        let mut message = format!(
                            "Switchboard forgot its sign-in, but {display} was not told to end \
                             its access: {}",
                            e.message
                        );
                        if !e.message.contains("connected apps") {
                            message.push_str(&format!(
                                " Remove Switchboard from the connected apps in your {display} \
                                 account."
                            ));
                        }
                        (RevocationOutcome::Failed, message)
                    }
                }
            }
            Some(_) => (
                RevocationOutcome::NotOffered,
                "This connection was already disconnected.".to_string(),
            ),
            None => (
                RevocationOutcome::NotOffered,
                format!(
                    "Switchboard forgot the key. The key itself keeps working until you delete \
                     or roll it in your {display} account."
                ),
            ),
        };
        let id = c.id.clone();
        blocking(&self.store, move |s| {
            let mut conn = s.conn();
            let tx = conn.transaction()?;
            oauth_grants::delete(&tx, &id)?;
            switchboard_store::secrets::delete_all(&tx, &id)?;
            connections::mark_disconnected(&tx, &id)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
        tracing::info!(connection = %c.name, ?revoked, "disconnected");
        Ok(DisconnectView {
            connection: self.find_connection(&c.id).await?,
            revoked,
            message,
        })
    }

    /// Revokes a connection's grant with its stored tokens and client.
    async fn revoke_at_provider(&self, c: &switchboard_core::views::ConnectionView) -> Result<()> {
        let (client, _) = self.oauth_client(c).await?;
        let tokens = self.tokens();
        let access = tokens.stored(&c.id, oauth_grants::ACCESS_TOKEN).await?;
        let refresh = tokens.stored(&c.id, oauth_grants::REFRESH_TOKEN).await?;
        client
            .revoke_grant(access.as_ref(), refresh.as_ref())
            .await
            .map_err(Into::into)
    }

    /// Deletes a connection and everything kept for it: payments, runs, cursors, logs,
    /// outbox items, secrets. The caller has asked the user to confirm.
    pub async fn delete_connection(&self, connection: &str) -> Result<String> {
        let c = self.find_connection(connection).await?;
        if c.status != ConnectionStatus::Disconnected {
            return Err(errors::invalid(format!(
                "Disconnect “{}” before deleting it and its data.",
                c.name
            )));
        }
        let id = c.id.clone();
        blocking(&self.store, move |s| connections::delete(&s.conn(), &id)).await?;
        tracing::info!(connection = %c.name, "deleted with its data");
        Ok(c.name)
    }
}
