//! Who a new OAuth grant belongs to, from each provider's own identity endpoint: Xero's
//! `/connections` (one entry per organisation allowed), QuickBooks' company information (the
//! realm id comes on the redirect), Google's OpenID userinfo, Square's `merchants/me`, MYOB's
//! company files (the business id comes on the redirect) and Mautic's `users/self`.

use crate::workspace::Workspace;
use crate::{Result, errors};
use std::collections::BTreeMap;
use switchboard_core::{CommandError, ErrorCode};
use switchboard_providers::oauth::TokenSet;

/// The account a grant reaches, as the provider names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    /// Xero tenant id, QuickBooks realm id, Google subject, Square merchant id, MYOB company
    /// file id, Mautic user id.
    pub id: String,
    /// Organisation, company or business name; the email for Google and Mautic.
    pub name: Option<String>,
}

impl Account {
    /// "Name (id)", for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.id),
            None => self.id.clone(),
        }
    }
}

/// What identifying needs besides the tokens.
pub(crate) struct IdentityRequest<'a> {
    pub provider: &'a str,
    pub api_base: &'a str,
    /// Parameters the redirect carried besides `code` and `state` (`realmId`, `businessId`).
    pub redirect: &'a BTreeMap<String, String>,
    /// The app's client id (MYOB wants it as `x-myobapi-key` on every call).
    pub client_id: &'a str,
}

/// A Xero organisation the grant reaches (`GET /connections`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct XeroTenant {
    tenant_id: String,
    tenant_name: Option<String>,
}

/// A MYOB company file (`GET /accountright/`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CompanyFile {
    id: String,
    name: Option<String>,
}

impl Workspace {
    /// The accounts `tokens` reach, from the provider's identity endpoint: one, except for
    /// Xero (every organisation the user allowed) and MYOB keys that learn the company file
    /// from the list (then the caller chooses, see [`choose`]).
    pub(crate) async fn identify(
        &self,
        request: &IdentityRequest<'_>,
        tokens: &TokenSet,
    ) -> Result<Vec<Account>> {
        match request.provider {
            "xero" => self.xero_tenants(request, tokens).await,
            "quickbooks" => Ok(vec![self.quickbooks_company(request, tokens).await?]),
            "google_calendar" => Ok(vec![self.google_user(request, tokens).await?]),
            "square" => Ok(vec![self.square_merchant(request, tokens).await?]),
            "myob" => self.myob_company_files(request, tokens).await,
            "mautic" => Ok(vec![self.mautic_user(request, tokens).await?]),
            other => Err(errors::internal(format!(
                "no identity endpoint is known for `{other}`"
            ))),
        }
    }

    /// The Xero organisations this grant reaches.
    /// <https://developer.xero.com/documentation/guides/oauth2/auth-flow/#5-check-the-tenants-youre-authorized-to-access>
    async fn xero_tenants(
        &self,
        r: &IdentityRequest<'_>,
        tokens: &TokenSet,
    ) -> Result<Vec<Account>> {
        // `/connections` lives at the API host's root (https://api.xero.com/connections).
        let url = at_root(r.api_base, "/connections")?;
        let tenants: Vec<XeroTenant> = self
            .identity_get("Xero", &url, tokens, &[], "its list of organisations")
            .await?;
        // The list covers every organisation connected to the app for this user, from earlier
        // sign-ins too; one organisation is listed once.
        let mut accounts: Vec<Account> = Vec::with_capacity(tenants.len());
        for t in tenants {
            if !accounts.iter().any(|a| a.id == t.tenant_id) {
                accounts.push(Account {
                    id: t.tenant_id,
                    name: t.tenant_name,
                });
            }
        }
        Ok(accounts)
    }

    /// The QuickBooks company this grant is for: its realm id from the redirect, its name from
    /// `GET /v3/company/{realm}/companyinfo/{realm}`.
    /// <https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/companyinfo>
    async fn quickbooks_company(
        &self,
        r: &IdentityRequest<'_>,
        tokens: &TokenSet,
    ) -> Result<Account> {
        let realm = r.redirect.get("realmId").cloned().ok_or_else(|| {
            CommandError::new(
                ErrorCode::BadResponse,
                "Intuit did not say which QuickBooks company was chosen (no realmId). Connect \
                 again.",
            )
        })?;
        let url = format!(
            "{}/v3/company/{realm}/companyinfo/{realm}",
            r.api_base.trim_end_matches('/')
        );
        let info: serde_json::Value = self
            .identity_get(
                "QuickBooks",
                &url,
                tokens,
                &[],
                "the chosen company's information",
            )
            .await?;
        let name = info["CompanyInfo"]["CompanyName"]
            .as_str()
            .map(str::to_string);
        Ok(Account { id: realm, name })
    }

    /// The Google account: `sub` (stable) and its email (the `email` scope), from the OpenID
    /// userinfo endpoint, which www.googleapis.com also serves at `/oauth2/v3/userinfo`.
    /// <https://developers.google.com/identity/openid-connect/openid-connect#obtaininguserprofileinformation>
    async fn google_user(&self, r: &IdentityRequest<'_>, tokens: &TokenSet) -> Result<Account> {
        let url = at_root(r.api_base, "/oauth2/v3/userinfo")?;
        let info: serde_json::Value = self
            .identity_get("Google", &url, tokens, &[], "which account signed in")
            .await?;
        let id = required_str(&info, "sub", "Google")?;
        let name = info["email"]
            .as_str()
            .or(info["name"].as_str())
            .map(str::to_string);
        Ok(Account { id, name })
    }

    /// The Square seller: `GET /v2/merchants/me` (needs MERCHANT_PROFILE_READ).
    /// <https://developer.squareup.com/reference/square/merchants-api/retrieve-merchant>
    async fn square_merchant(&self, r: &IdentityRequest<'_>, tokens: &TokenSet) -> Result<Account> {
        let url = format!("{}/v2/merchants/me", r.api_base.trim_end_matches('/'));
        let info: serde_json::Value = self
            .identity_get(
                "Square",
                &url,
                tokens,
                &[("Square-Version", switchboard_providers::square::API_VERSION)],
                "the business's profile",
            )
            .await?;
        let merchant = &info["merchant"];
        let id = required_str(merchant, "id", "Square")?;
        let name = merchant["business_name"].as_str().map(str::to_string);
        Ok(Account { id, name })
    }

    /// The MYOB company file: its id from the redirect's `businessId` (keys made since March
    /// 2025 learn it only there), its name from the company file list (`GET /accountright/`,
    /// which older keys also use to choose).
    /// <https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025>
    async fn myob_company_files(
        &self,
        r: &IdentityRequest<'_>,
        tokens: &TokenSet,
    ) -> Result<Vec<Account>> {
        let url = at_root(r.api_base, "/accountright/")?;
        let files: Vec<CompanyFile> = self
            .identity_get(
                "MYOB",
                &url,
                tokens,
                &[("x-myobapi-key", r.client_id), ("x-myobapi-version", "v2")],
                "its list of company files",
            )
            .await?;
        let accounts: Vec<Account> = files
            .into_iter()
            .map(|f| Account {
                id: f.id,
                name: f.name,
            })
            .collect();
        Ok(match r.redirect.get("businessId") {
            Some(business) => {
                let chosen = accounts.into_iter().find(|a| &a.id == business);
                vec![chosen.unwrap_or_else(|| Account {
                    id: business.clone(),
                    name: r.redirect.get("businessName").cloned(),
                })]
            }
            None => accounts,
        })
    }

    /// The Mautic user the grant acts as: `GET /api/users/self` on the customer's Mautic.
    /// <https://devdocs.mautic.org/en/7.0/rest_api/users.html>
    async fn mautic_user(&self, r: &IdentityRequest<'_>, tokens: &TokenSet) -> Result<Account> {
        let url = format!("{}/api/users/self", r.api_base.trim_end_matches('/'));
        let info: serde_json::Value = self
            .identity_get("Mautic", &url, tokens, &[], "which user signed in")
            .await?;
        let id = match &info["id"] {
            serde_json::Value::Number(n) => n.to_string(),
            other => other.as_str().map(str::to_string).ok_or_else(|| {
                bad_response("Mautic", "the signed-in user without an id".to_string())
            })?,
        };
        let name = info["email"]
            .as_str()
            .or(info["username"].as_str())
            .map(str::to_string);
        Ok(Account { id, name })
    }

    /// One identity request right after the sign-in (`what` names what it fetches), as JSON.
    async fn identity_get<T: serde::de::DeserializeOwned>(
        &self,
        provider: &str,
        url: &str,
        tokens: &TokenSet,
        headers: &[(&str, &str)],
        what: &str,
    ) -> Result<T> {
        let mut request = self
            .client
            .get(url)
            .bearer_auth(tokens.access_token.expose())
            .header("Accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| switchboard_providers::http::transport_error(provider, e))?;
        if !answer.status().is_success() {
            return Err(CommandError::new(
                ErrorCode::ProviderError,
                format!(
                    "{provider} did not send {what} (HTTP {}). Try connecting again.",
                    answer.status().as_u16()
                ),
            ));
        }
        answer.json().await.map_err(|e| {
            bad_response(
                provider,
                format!(
                    "{what} in a form Switchboard cannot read: {}",
                    e.without_url()
                ),
            )
        })
    }
}

/// `path` on the host of `api_base` (identity endpoints that live outside the API's path).
fn at_root(api_base: &str, path: &str) -> Result<String> {
    let mut url = reqwest::Url::parse(api_base)
        .map_err(|e| errors::invalid(format!("`{api_base}` is not a URL: {e}")))?;
    url.set_path(path);
    url.set_query(None);
    Ok(url.into())
}

fn required_str(value: &serde_json::Value, field: &str, provider: &str) -> Result<String> {
    value[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| bad_response(provider, format!("an identity without `{field}`")))
}

fn bad_response(provider: &str, what: String) -> CommandError {
    CommandError::new(
        ErrorCode::BadResponse,
        format!("{provider} sent {what}. Try connecting again."),
    )
}

/// The one account, or the one `wanted` (by id or name) among several.
pub(crate) fn choose(kind: &str, accounts: Vec<Account>, wanted: Option<&str>) -> Result<Account> {
    let list = |all: &[Account]| {
        all.iter()
            .map(Account::label)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (wanted, accounts.as_slice()) {
        (_, []) => Err(errors::invalid(format!(
            "The sign-in did not allow any {kind}. Connect again and pick one."
        ))),
        (None, [only]) => Ok(only.clone()),
        (None, several) => Err(errors::invalid(format!(
            "This sign-in reaches several: {}. Choose one {kind} (by name or id).",
            list(several)
        ))),
        (Some(want), all) => all
            .iter()
            .find(|a| a.id == want || a.name.as_deref() == Some(want))
            .cloned()
            .ok_or_else(|| {
                errors::invalid(format!(
                    "No {kind} `{want}` in this sign-in; it reaches {}.",
                    list(all)
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str) -> Account {
        Account {
            id: id.into(),
            name: Some(name.into()),
        }
    }

    #[test]
    fn one_account_is_taken_several_need_a_choice_by_id_or_name() {
        let one = vec![account("t1", "Demo Company")];
        assert_eq!(choose("org", one, None).unwrap().id, "t1");
        let two = vec![account("t1", "Demo"), account("t2", "Other")];
        let err = choose("org", two.clone(), None).unwrap_err();
        assert!(err.message.contains("Other (t2)"), "{}", err.message);
        assert_eq!(choose("org", two.clone(), Some("Other")).unwrap().id, "t2");
        assert_eq!(choose("org", two.clone(), Some("t1")).unwrap().id, "t1");
        let err = choose("org", two, Some("nope")).unwrap_err();
        assert!(err.message.contains("`nope`"), "{}", err.message);
        assert!(choose("org", Vec::new(), None).is_err());
    }

    #[test]
    fn identity_paths_at_the_api_hosts_root() {
        assert_eq!(
            at_root("https://api.xero.com/api.xro/2.0", "/connections").unwrap(),
            "https://api.xero.com/connections"
        );
        assert_eq!(
            at_root(
                "https://www.googleapis.com/calendar/v3",
                "/oauth2/v3/userinfo"
            )
            .unwrap(),
            "https://www.googleapis.com/oauth2/v3/userinfo"
        );
        assert!(at_root("not a url", "/x").is_err());
    }
}
