//! One `oauthtoken` row and its translation: the key it belongs to, the token it holds (merging
//! the SDKs' columns with our `zo_state`), and the column values a token is written as.
//!
//! An SDK row (no `zo_*` columns) is keyed and read with the one mapping of the official SDKs'
//! rows, the same as their CSV file's: [`zoho_oauth::sdk::rows::map_row`], on the core's
//! [`Origin::region_of_api_domain`] (which data centre and environment it belongs to: its
//! `api_domain`, or the configured ones when it has none) and [`TokenSet::from_sdk_row`] (what
//! token it holds).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use mysql::prelude::FromValue;
use mysql::{Row, Value};
use zeroize::Zeroizing;
use zoho_oauth::core::{DataCenter, Environment, Instant, Origin, TokenSet};
use zoho_oauth::sdk::rows::{self, RowContext, RowError, SdkRow};
use zoho_oauth::{CredentialKey, StoreError};

/// The columns [`StoredRow::read`] expects, in this order.
pub(crate) const COLUMNS: &str = "id, user_name, client_id, refresh_token, access_token, \
     expiry_time, api_domain, zo_dc, zo_env, zo_state, grant_token";

/// The SDKs' columns are `varchar(255)`: longer values cannot be stored without truncation.
const SDK_VARCHAR: usize = 255;

/// The user of an SDK row without `user_name` (the SDKs allow a token without a user), as the
/// CSV import names it.
pub(crate) const DEFAULT_USER: &str = rows::DEFAULT_USER;

/// Where the client using the store is configured to run: how SDK rows whose `api_domain` does
/// not name a Zoho data centre are keyed (see [`MysqlStore::with_configured_region`]).
///
/// [`MysqlStore::with_configured_region`]: crate::MysqlStore::with_configured_region
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Configured {
    pub(crate) accounts: Origin,
    pub(crate) data_center: DataCenter,
    pub(crate) environment: Environment,
}

/// A row of `oauthtoken` that is not a credential this store can serve, as
/// [`MysqlStore::unusable_rows`](crate::MysqlStore::unusable_rows) reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnusableRow {
    /// The row's `id` (the SDKs' primary key).
    pub id: String,
    /// Its `user_name`, if any.
    pub user_name: Option<String>,
    /// Why it cannot be served.
    pub why: Unusable,
}

/// Why a row of `oauthtoken` is not a credential this store can serve.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unusable {
    /// An SDK row that the SDK-row mapping refuses: no `client_id`, a grant token never
    /// exchanged, no refresh token, an `api_domain` that is not Zoho's (nor loopback under a
    /// custom accounts origin).
    Sdk(RowError),
    /// An SDK row without `api_domain`, and the store was not told the configured data centre
    /// and environment ([`MysqlStore::with_configured_region`](crate::MysqlStore::with_configured_region)).
    NoRegion,
    /// A row this store wrote whose key columns name no known data centre or environment, or a
    /// column of an unexpected type.
    Damaged(String),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sdk(e) => write!(f, "{e}"),
            Self::NoRegion => f.write_str(
                "it has no api_domain, so its data centre is unknown: configure the client's data centre and environment",
            ),
            Self::Damaged(why) => write!(f, "it is damaged ({why}): delete the row"),
        }
    }
}

/// One row of `oauthtoken`, as read.
pub(crate) struct StoredRow {
    pub(crate) id: String,
    user_name: Option<String>,
    client_id: Option<String>,
    refresh_token: Option<Zeroizing<String>>,
    access_token: Option<Zeroizing<String>>,
    expiry_time: Option<String>,
    api_domain: Option<String>,
    zo_dc: Option<String>,
    zo_env: Option<String>,
    zo_state: Option<Zeroizing<Vec<u8>>>,
    grant_token: Option<Zeroizing<String>>,
}

fn take<T: FromValue>(row: &mut Row, index: usize, name: &str) -> Result<T, StoreError> {
    row.take_opt(index)
        .unwrap_or_else(|| Err(mysql::FromValueError(Value::NULL)))
        .map_err(|_| {
            StoreError::Corrupt(format!("oauthtoken.{name} does not hold the expected type"))
        })
}

impl StoredRow {
    /// Read a row selected with [`COLUMNS`].
    pub(crate) fn read(mut row: Row) -> Result<Self, StoreError> {
        let r = &mut row;
        Ok(Self {
            id: take(r, 0, "id")?,
            user_name: take(r, 1, "user_name")?,
            client_id: take(r, 2, "client_id")?,
            refresh_token: take::<Option<String>>(r, 3, "refresh_token")?.map(Zeroizing::new),
            access_token: take::<Option<String>>(r, 4, "access_token")?.map(Zeroizing::new),
            expiry_time: take(r, 5, "expiry_time")?,
            api_domain: take(r, 6, "api_domain")?,
            zo_dc: take(r, 7, "zo_dc")?,
            zo_env: take(r, 8, "zo_env")?,
            zo_state: take::<Option<Vec<u8>>>(r, 9, "zo_state")?.map(Zeroizing::new),
            grant_token: take::<Option<String>>(r, 10, "grant_token")?.map(Zeroizing::new),
        })
    }

    /// Whether this store wrote the row (it carries our key columns).
    pub(crate) fn is_ours(&self) -> bool {
        self.zo_dc.is_some()
    }

    /// The key of the row: ours from `zo_dc`/`zo_env`; an SDK row's by the core's rule for SDK
    /// rows (its `api_domain`, else `configured`). `Err` says why the row cannot be a credential.
    pub(crate) fn key(&self, configured: Option<&Configured>) -> Result<CredentialKey, Unusable> {
        if let Some(dc) = &self.zo_dc {
            // Ours: the key exactly as it was saved (an empty user included).
            let user = self.user_name.as_deref().unwrap_or_default();
            let client_id = self.client_id.as_deref().unwrap_or_default();
            let data_center = DataCenter::from_location(dc).map_err(|_| {
                Unusable::Damaged(format!("zo_dc names the unknown data centre {dc:?}"))
            })?;
            let env = self.zo_env.as_deref().unwrap_or_default();
            let environment = Environment::from_name(env).map_err(|_| {
                Unusable::Damaged(format!("zo_env names the unknown environment {env:?}"))
            })?;
            return Ok(CredentialKey::new(
                user,
                client_id,
                data_center,
                environment,
            ));
        }
        let unconfigured = Configured::unconfigured();
        let ctx = configured.unwrap_or(&unconfigured).context();
        let mapped = rows::map_row(&self.sdk_row(), &ctx);
        let no_region = configured.is_none() && self.text(&self.api_domain).trim().is_empty();
        match mapped {
            // What the row lacks besides a region is the more useful report.
            Err(e @ (RowError::MissingField { .. } | RowError::GrantTokenOnly)) => {
                Err(Unusable::Sdk(e))
            }
            _ if no_region => Err(Unusable::NoRegion),
            Ok(credential) => Ok(credential.key),
            // Keyable but damaged tokens: listed by key, loaded as Corrupt, deletable.
            Err(RowError::Token(_) | RowError::BadExpiry { .. }) => {
                let (data_center, environment) = ctx
                    .origin
                    .region_of_api_domain(self.text(&self.api_domain).trim(), ctx.configured)
                    .map_err(|_| {
                        Unusable::Sdk(RowError::Unkeyable {
                            api_domain: self.text(&self.api_domain).to_owned(),
                        })
                    })?;
                let user = Some(self.text(&self.user_name))
                    .filter(|u| !u.is_empty())
                    .unwrap_or(DEFAULT_USER);
                let client_id = self.text(&self.client_id);
                Ok(CredentialKey::new(
                    user,
                    client_id,
                    data_center,
                    environment,
                ))
            }
            Err(e) => Err(Unusable::Sdk(e)),
        }
    }

    /// The SDK's ten columns as text (the ones this store does not read are empty).
    fn sdk_row(&self) -> SdkRow<'_> {
        SdkRow {
            id: &self.id,
            user_name: self.text(&self.user_name),
            client_id: self.text(&self.client_id),
            refresh_token: self.text_secret(&self.refresh_token),
            access_token: self.text_secret(&self.access_token),
            grant_token: self.text_secret(&self.grant_token),
            expiry_time: self.text(&self.expiry_time),
            api_domain: self.text(&self.api_domain),
            ..SdkRow::default()
        }
    }

    /// A nullable text column, NULL as empty.
    fn text<'a>(&self, column: &'a Option<String>) -> &'a str {
        column.as_deref().unwrap_or_default()
    }

    /// The row as a report of why it cannot be served.
    pub(crate) fn unusable(&self, why: Unusable) -> UnusableRow {
        UnusableRow {
            id: self.id.clone(),
            user_name: self.user_name.clone(),
            why,
        }
    }

    /// The token of the row. Our `zo_state` is returned as it is while the SDK columns still say
    /// what we wrote; when an SDK changed them since (it refreshed), the columns win and the state
    /// contributes what the SDK does not keep (scope, mint budget, and the rest of the machine's
    /// state, while the refresh token is the same).
    pub(crate) fn token(
        &self,
        key: &CredentialKey,
        configured: Option<&Configured>,
    ) -> Result<TokenSet, StoreError> {
        let state = match &self.zo_state {
            Some(bytes) => Some(zoho_oauth::store::decode_token(key, bytes)?),
            None => None,
        };
        if let Some(state) = &state {
            if self.columns_still_say(state) {
                return Ok(state.clone());
            }
        }
        let Some(mut columns) = self.columns_token(key, configured)? else {
            return state.ok_or_else(|| {
                StoreError::Corrupt(format!("row {} of {key} holds no refresh token", self.id))
            });
        };
        if let Some(state) = state {
            if state.refresh_token == columns.refresh_token {
                columns.grant = state.grant;
                columns.scope = state.scope;
                columns.soid = state.soid;
                columns.mints = state.mints;
                columns.hold = state.hold;
            }
        }
        Ok(columns)
    }

    /// Whether the SDK columns hold exactly what [`written_values`] wrote for `state`.
    fn columns_still_say(&self, state: &TokenSet) -> bool {
        let refresh = state.refresh_token.as_ref().map_or("", |r| r.expose());
        let access = state.access_token.as_ref().map(|a| a.expose());
        self.refresh_token.as_deref().map_or("", String::as_str) == refresh
            && self.access_token.as_deref().map(String::as_str) == access
            && (access.is_none()
                || self.expiry_time.as_deref() == Some(&state.expires_at.as_millis().to_string()))
    }

    /// The token the SDK columns describe, if they hold a refresh token, by the SDK-row mapping
    /// (an access token without a readable expiry, or with one too far ahead, is dropped and
    /// will be refreshed rather than trusted). A row it refuses is `Corrupt`, naming the key.
    fn columns_token(
        &self,
        key: &CredentialKey,
        configured: Option<&Configured>,
    ) -> Result<Option<TokenSet>, StoreError> {
        if self.text_secret(&self.refresh_token).is_empty() {
            return Ok(None);
        }
        let unconfigured = Configured::unconfigured();
        let ctx = configured.unwrap_or(&unconfigured).context();
        rows::map_row(&self.sdk_row(), &ctx)
            .map(|credential| Some(credential.token))
            .map_err(|e| StoreError::Corrupt(format!("row {} of {key}: {e}", self.id)))
    }

    fn text_secret<'a>(&self, column: &'a Option<Zeroizing<String>>) -> &'a str {
        column.as_deref().map_or("", String::as_str)
    }
}

impl Configured {
    /// Without a configured region only a Zoho `api_domain` keys a row (an empty one is
    /// [`Unusable::NoRegion`] before this is used): any Zoho origin and region will do.
    fn unconfigured() -> Self {
        Self {
            accounts: Origin::Zoho(DataCenter::Us),
            data_center: DataCenter::Us,
            environment: Environment::Production,
        }
    }

    /// The SDK-row mapping's context now.
    fn context(&self) -> RowContext<'_> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        RowContext {
            origin: &self.accounts,
            configured: (self.data_center, self.environment),
            now: Instant::from_millis(now),
        }
    }
}

/// The values a token is written as: `user_name, client_id, refresh_token, access_token,
/// expiry_time, api_domain, zo_dc, zo_env, zo_state`, in that order.
pub(crate) fn written_values(
    key: &CredentialKey,
    token: &TokenSet,
) -> Result<Vec<Value>, StoreError> {
    let too_long = |what: &str| {
        StoreError::Other(format!(
            "the {what} of {key} is longer than the {SDK_VARCHAR} characters of the SDKs' oauthtoken table"
        ))
    };
    let fits = |s: &str| s.chars().count() <= SDK_VARCHAR;
    if !fits(&key.user) {
        return Err(too_long("user"));
    }
    if !fits(&key.client_id) {
        return Err(too_long("client id"));
    }
    // Client-credentials tokens have none: the SDKs' column is left empty.
    let refresh = token.refresh_token.as_ref().map_or("", |r| r.expose());
    if !fits(refresh) {
        return Err(too_long("refresh token"));
    }
    let access = token.access_token.as_ref().map(|a| a.expose());
    if !access.is_none_or(fits) {
        return Err(too_long("access token"));
    }
    let api_domain = if token.api_domain.is_empty() {
        key.data_center.api_domain(key.environment)
    } else {
        token.api_domain.as_str()
    };
    let state = zoho_oauth::store::encode_token(key, token)?;
    Ok(vec![
        key.user.as_str().into(),
        key.client_id.as_str().into(),
        refresh.into(),
        access.into(),
        access
            .map(|_| token.expires_at.as_millis().to_string())
            .into(),
        api_domain.into(),
        key.data_center.location_code().into(),
        key.environment.name().into(),
        Value::Bytes(state.to_vec()),
    ])
}
