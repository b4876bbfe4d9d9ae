//! The identity endpoints each provider's client reads after connecting (which organisation,
//! company, user or merchant the grant is for), each refusing a bad token the provider's way.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::profiles::Identity;
use super::util::json_response;
use super::util::{self, Params};
use super::{FakeState, Inner};

/// Why an API call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Denied {
    Missing,
    Unknown,
    Expired,
    Revoked,
}

impl Denied {
    fn detail(self) -> &'static str {
        match self {
            Denied::Missing => "No access token was given.",
            Denied::Unknown => "The access token is not valid.",
            Denied::Expired => "The access token has expired.",
            Denied::Revoked => "The access token has been revoked.",
        }
    }
}

/// What an authorized call may use: the scopes of its access token.
struct Caller {
    scopes: Vec<String>,
    expires_ms: i64,
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found").into_response()
}

impl Inner {
    fn caller(&self, st: &FakeState, headers: &HeaderMap, query: &str) -> Result<Caller, Denied> {
        let from_query = Params::from_query(query).unwrap_or_default();
        if self.profile.identity == Identity::MauticSelf
            && let Some((user, password)) = util::basic_credentials(headers)
        {
            // HTTP basic auth, where the instance enables it: the API user's own password.
            let username = st.account.email.split('@').next().unwrap_or("admin");
            return if st.settings.basic_auth && user == username && password == self.basic_password
            {
                Ok(Caller {
                    scopes: Vec::new(),
                    expires_ms: i64::MAX,
                })
            } else {
                Err(Denied::Unknown)
            };
        }
        let token = util::bearer(headers)
            .map(str::to_string)
            .or_else(|| {
                // Mautic also takes the token as a parameter.
                (self.profile.identity == Identity::MauticSelf)
                    .then(|| from_query.get("access_token").map(str::to_string))
                    .flatten()
            })
            .ok_or(Denied::Missing)?;
        let t = st.access.get(&token).ok_or(Denied::Unknown)?;
        if t.revoked || st.grants[t.grant].revoked {
            return Err(Denied::Revoked);
        }
        if self.now_ms(st) >= t.expires_ms {
            return Err(Denied::Expired);
        }
        Ok(Caller {
            scopes: t.scopes.clone(),
            expires_ms: t.expires_ms,
        })
    }

    /// Everything that is not an OAuth endpoint.
    pub(crate) fn identity(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> Response {
        let Some(route) = self.route(method, path) else {
            return not_found();
        };
        let mut st = self.state();
        st.counters.api_requests += 1;
        match self.caller(&st, headers, query) {
            Ok(caller) => self.answer(&mut st, route, &caller, query),
            Err(denied) => {
                st.counters.api_unauthorized += 1;
                self.unauthorized(&mut st, denied)
            }
        }
    }

    /// Square's payments API (`/v2/...` other than the identity routes), when served: the same
    /// token check as `merchants/me`, then the payments fake with the token's scopes.
    pub(crate) fn square_payments(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Response> {
        let payments = self.square.get()?;
        if !path.starts_with("/v2/") || self.route(method, path).is_some() {
            return None;
        }
        let mut st = self.state();
        let caller = match self.caller(&st, headers, query) {
            Ok(caller) => caller,
            Err(denied) => return Some(self.unauthorized(&mut st, denied)),
        };
        let now = self.now_ms(&st);
        drop(st);
        Some(payments.respond(crate::square::Call {
            method,
            path,
            query,
            headers,
            body,
            scopes: &caller.scopes,
            now_ms: now,
        }))
    }

    fn route<'a>(&self, method: &Method, path: &'a str) -> Option<Route<'a>> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let get = method == Method::GET;
        match (self.profile.identity, segments.as_slice()) {
            (Identity::XeroConnections, [c]) if get && c.eq_ignore_ascii_case("connections") => {
                Some(Route::Connections)
            }
            (Identity::XeroConnections, [c, id])
                if method == Method::DELETE && c.eq_ignore_ascii_case("connections") =>
            {
                Some(Route::DeleteConnection(id))
            }
            (Identity::QuickBooksCompanyInfo, ["v3", "company", realm, ci, id])
                if get && ci.eq_ignore_ascii_case("companyinfo") =>
            {
                Some(Route::CompanyInfo(realm, id))
            }
            (Identity::GoogleUserinfo, ["v1", "userinfo"] | ["oauth2", "v3", "userinfo"])
                if get || method == Method::POST =>
            {
                Some(Route::Userinfo)
            }
            (Identity::SquareMerchant, ["v2", "merchants", id]) if get => Some(Route::Merchant(id)),
            (Identity::SquareMerchant, ["oauth2", "token", "status"]) if method == Method::POST => {
                Some(Route::TokenStatus)
            }
            (Identity::MyobCompanyFiles, ["accountright"]) if get => Some(Route::CompanyFiles),
            (Identity::MauticSelf, ["api", "users", "self"]) if get => Some(Route::MauticSelf),
            _ => None,
        }
    }

    fn answer(
        &self,
        st: &mut FakeState,
        route: Route<'_>,
        caller: &Caller,
        query: &str,
    ) -> Response {
        let now = self.now_ms(st);
        let account = &st.account;
        let ok = |body: Value| json_response(StatusCode::OK, &body);
        let has = |s: &str| caller.scopes.iter().any(|x| x == s);
        match route {
            Route::Connections => {
                let filter = Params::from_query(query)
                    .ok()
                    .and_then(|p| p.get("authEventId").map(str::to_string));
                let list: Vec<Value> = st
                    .connections
                    .iter()
                    .filter(|c| filter.as_deref().is_none_or(|f| f == c.auth_event_id))
                    .map(|c| {
                        let tenant = &account.tenants[c.tenant];
                        json!({
                            "id": c.id,
                            "authEventId": c.auth_event_id,
                            "tenantId": tenant.tenant_id,
                            "tenantType": "ORGANISATION",
                            "tenantName": tenant.name,
                            "createdDateUtc": util::xero_time(c.created_ms),
                            "updatedDateUtc": util::xero_time(c.updated_ms),
                        })
                    })
                    .collect();
                ok(Value::Array(list))
            }
            Route::DeleteConnection(id) => {
                let before = st.connections.len();
                st.connections.retain(|c| c.id != id);
                if st.connections.len() < before {
                    StatusCode::NO_CONTENT.into_response()
                } else {
                    not_found()
                }
            }
            Route::CompanyInfo(realm, id) => {
                if realm != account.realm_id {
                    return json_response(
                        StatusCode::FORBIDDEN,
                        &intuit_fault(
                            "ApplicationAuthorizationFailed",
                            "003100",
                            403,
                            "3100",
                            "SECURITY",
                            now,
                        ),
                    );
                }
                if id != realm {
                    return json_response(
                        StatusCode::BAD_REQUEST,
                        &intuit_fault(
                            "Object Not Found",
                            "610",
                            400,
                            "610",
                            "ValidationFault",
                            now,
                        ),
                    );
                }
                let address = json!({
                    "Id": "1",
                    "Line1": "2600 Marine Way",
                    "City": "Mountain View",
                    "CountrySubDivisionCode": "CA",
                    "PostalCode": "94043",
                });
                ok(json!({
                    "CompanyInfo": {
                        "CompanyName": account.company,
                        "LegalName": format!("{} LLC", account.company),
                        "CompanyAddr": address,
                        "CustomerCommunicationAddr": address,
                        "LegalAddr": address,
                        "PrimaryPhone": {},
                        "CompanyStartDate": "2021-04-01",
                        "FiscalYearStartMonth": "January",
                        "Country": "US",
                        "Email": {"Address": account.email},
                        "WebAddr": {},
                        "SupportedLanguages": "en",
                        "NameValue": [],
                        "domain": "QBO",
                        "sparse": false,
                        "Id": "1",
                        "SyncToken": "3",
                        "MetaData": {
                            "CreateTime": "2021-04-01T09:00:00-07:00",
                            "LastUpdatedTime": util::intuit_time(now - 86_400_000),
                        },
                    },
                    "time": util::intuit_time(now),
                }))
            }
            Route::Userinfo => {
                let mut body = json!({ "sub": account.subject });
                if has("email") || has("https://www.googleapis.com/auth/userinfo.email") {
                    body["email"] = json!(account.email);
                    body["email_verified"] = json!(true);
                }
                if has("profile") || has("https://www.googleapis.com/auth/userinfo.profile") {
                    let name = account.name.clone();
                    let (given, family) = name.split_once(' ').unwrap_or((&name, ""));
                    body["name"] = json!(name);
                    body["given_name"] = json!(given);
                    body["family_name"] = json!(family);
                }
                ok(body)
            }
            Route::Merchant(id) => {
                if !has("MERCHANT_PROFILE_READ") {
                    return square_errors(
                        StatusCode::FORBIDDEN,
                        "AUTHENTICATION_ERROR",
                        "INSUFFICIENT_SCOPES",
                        "The merchant has not given your application sufficient permissions to do that. The merchant must authorize your application for the following scopes: MERCHANT_PROFILE_READ",
                    );
                }
                if id != "me" && id != account.merchant_id {
                    return square_errors(
                        StatusCode::NOT_FOUND,
                        "INVALID_REQUEST_ERROR",
                        "NOT_FOUND",
                        "Merchant not found.",
                    );
                }
                ok(json!({
                    "merchant": {
                        "id": account.merchant_id,
                        "business_name": account.company,
                        "country": "US",
                        "language_code": "en-US",
                        "currency": "USD",
                        "status": "ACTIVE",
                        "main_location_id": format!("L{}", &account.merchant_id[..12]),
                        "created_at": "2021-04-01T16:00:00.000Z",
                    }
                }))
            }
            Route::TokenStatus => ok(json!({
                "scopes": caller.scopes,
                "expires_at": util::rfc3339(caller.expires_ms),
                "client_id": self.client_id,
                "merchant_id": account.merchant_id,
            })),
            Route::CompanyFiles => ok(json!([{
                "Id": account.business_id,
                "Name": account.company,
                "LibraryPath": account.company,
                "ProductVersion": "2025.1",
                "ProductLevel": {"Code": 20, "Name": "Standard"},
                "CheckedOutDate": null,
                "CheckedOutBy": null,
                "Uri": format!("{}/accountright/{}", self.base(), account.business_id),
                "Country": "AU",
                "SerialNumber": "612345678901",
            }])),
            Route::MauticSelf => {
                let name = account.name.clone();
                let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
                ok(json!({
                    "id": account.subject.parse::<u64>().unwrap_or(1),
                    "isPublished": true,
                    "dateAdded": "2021-04-01T09:00:00+00:00",
                    "createdBy": null,
                    "createdByUser": null,
                    "dateModified": null,
                    "modifiedBy": null,
                    "modifiedByUser": null,
                    "username": account.email.split('@').next().unwrap_or("admin"),
                    "firstName": first,
                    "lastName": last,
                    "email": account.email,
                    "position": null,
                    "role": {
                        "isPublished": true,
                        "id": 1,
                        "name": "Administrator",
                        "description": "Full system access",
                        "isAdmin": true,
                        "rawPermissions": null,
                    },
                    "timezone": "",
                    "locale": "",
                    "lastLogin": util::rfc3339(now - 3_600_000),
                    "lastActive": util::rfc3339(now),
                    "onlineStatus": "online",
                    "signature": null,
                }))
            }
        }
    }

    fn unauthorized(&self, st: &mut FakeState, denied: Denied) -> Response {
        let now = self.now_ms(st);
        let mut response = match self.profile.identity {
            Identity::XeroConnections => json_response(
                StatusCode::UNAUTHORIZED,
                &json!({
                    "Type": null,
                    "Title": "Unauthorized",
                    "Status": 401,
                    "Detail": "AuthenticationUnsuccessful",
                    "Instance": util::uuid(&mut st.rng),
                    "Extensions": {},
                }),
            ),
            Identity::QuickBooksCompanyInfo => {
                let mut body = intuit_fault(
                    "AuthenticationFailed",
                    "003200",
                    401,
                    "3200",
                    "AUTHENTICATION",
                    now,
                );
                body["fault"]["error"][0]["detail"] = json!(match denied {
                    Denied::Expired => "Token expired",
                    Denied::Revoked => "Token revoked",
                    _ => "Token invalid",
                });
                json_response(StatusCode::UNAUTHORIZED, &body)
            }
            Identity::GoogleUserinfo => json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "invalid_request", "error_description": "Invalid Credentials"}),
            ),
            Identity::SquareMerchant => {
                let code = match denied {
                    Denied::Expired => "ACCESS_TOKEN_EXPIRED",
                    Denied::Revoked => "ACCESS_TOKEN_REVOKED",
                    _ => "UNAUTHORIZED",
                };
                square_errors(
                    StatusCode::UNAUTHORIZED,
                    "AUTHENTICATION_ERROR",
                    code,
                    denied.detail(),
                )
            }
            Identity::MyobCompanyFiles => json_response(
                StatusCode::UNAUTHORIZED,
                &json!({
                    "Errors": [{
                        "Name": "OAuthTokenIsInvalid",
                        "Message": "The supplied OAuth token (Bearer) is not valid",
                        "AdditionalDetails": denied.detail(),
                        "ErrorCode": 31001,
                        "Severity": "Error",
                        "LearnMore": null,
                    }],
                    "Information": "Warning, error messages have not been finalised in this release and may change",
                }),
            ),
            Identity::MauticSelf => json_response(
                StatusCode::UNAUTHORIZED,
                &json!({"errors": [{"message": "API authorization denied.", "code": 401, "type": "access_denied"}]}),
            ),
        };
        let challenge = match denied {
            Denied::Missing => "Bearer".to_string(),
            _ => "Bearer error=\"invalid_token\"".to_string(),
        };
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

/// A route of the identity endpoints, with its path parameters.
#[derive(Clone, Copy, Debug)]
enum Route<'a> {
    Connections,
    DeleteConnection(&'a str),
    CompanyInfo(&'a str, &'a str),
    Userinfo,
    Merchant(&'a str),
    TokenStatus,
    CompanyFiles,
    MauticSelf,
}

/// Intuit's error envelope: `{"fault":{"error":[…],"type":…},"time":…}`.
fn intuit_fault(name: &str, code: &str, status: u16, short: &str, kind: &str, now: i64) -> Value {
    json!({
        "fault": {
            "error": [{
                "message": format!("message={name}; errorCode={code}; statusCode={status}"),
                "detail": "",
                "code": short,
            }],
            "type": kind,
        },
        "time": util::intuit_time(now),
    })
}

/// Square's error envelope: `{"errors":[{"category","code","detail"}]}`.
fn square_errors(status: StatusCode, category: &str, code: &str, detail: &str) -> Response {
    json_response(
        status,
        &json!({"errors": [{"category": category, "code": code, "detail": detail}]}),
    )
}
