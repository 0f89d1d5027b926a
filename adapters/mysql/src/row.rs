//! One `oauthtoken` row and its translation: the key it belongs to, the token it holds (merging
//! the SDKs' columns with our `zo_state`), and the column values a token is written as.

use std::time::Duration;

use mysql::prelude::FromValue;
use mysql::{Row, Value};
use zeroize::Zeroizing;
use zoho_oauth::core::{DataCenter, Environment, Instant, Secret, TokenSet};
use zoho_oauth::{CredentialKey, StoreError};

/// The columns [`StoredRow::read`] expects, in this order.
pub(crate) const COLUMNS: &str = "id, user_name, client_id, refresh_token, access_token, \
     expiry_time, api_domain, zo_dc, zo_env, zo_state";

/// The lifetime assumed for an access token the SDK stored: it keeps no mint time, and Zoho's
/// access tokens live one hour.
const SDK_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The SDKs' columns are `varchar(255)`: longer values cannot be stored without truncation.
const SDK_VARCHAR: usize = 255;

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
        })
    }

    /// Whether this store wrote the row (it carries our key columns).
    pub(crate) fn is_ours(&self) -> bool {
        self.zo_dc.is_some()
    }

    /// The key of the row: ours from `zo_dc`/`zo_env`; an SDK row's from its `api_domain`. `None`
    /// for an SDK row that is not a usable credential (no user, client, refresh token, or a
    /// non-Zoho `api_domain`).
    pub(crate) fn key(&self) -> Result<Option<CredentialKey>, StoreError> {
        let (Some(user), Some(client_id)) = (&self.user_name, &self.client_id) else {
            return Ok(None);
        };
        if let Some(dc) = &self.zo_dc {
            let data_center = DataCenter::from_location(dc).map_err(|_| {
                StoreError::Corrupt(format!(
                    "row {} names the unknown data centre {dc:?}",
                    self.id
                ))
            })?;
            let env = self.zo_env.as_deref().unwrap_or_default();
            let environment = Environment::from_name(env).map_err(|_| {
                StoreError::Corrupt(format!(
                    "row {} names the unknown environment {env:?}",
                    self.id
                ))
            })?;
            return Ok(Some(CredentialKey::new(
                user,
                client_id,
                data_center,
                environment,
            )));
        }
        if non_empty(&self.refresh_token).is_none() {
            return Ok(None);
        }
        let Some(Ok((data_center, environment))) =
            self.api_domain.as_deref().map(DataCenter::from_api_domain)
        else {
            return Ok(None);
        };
        Ok(Some(CredentialKey::new(
            user,
            client_id,
            data_center,
            environment,
        )))
    }

    /// The token of the row. Our `zo_state` is returned as it is while the SDK columns still say
    /// what we wrote; when an SDK changed them since (it refreshed), the columns win and the state
    /// contributes what the SDK does not keep (scope, mint budget, mint time).
    pub(crate) fn token(&self, key: &CredentialKey) -> Result<TokenSet, StoreError> {
        let state = match &self.zo_state {
            Some(bytes) => Some(zoho_oauth::store::decode_token(key, bytes)?),
            None => None,
        };
        let columns = self.columns_token(key)?;
        match (state, columns) {
            (Some(state), None) => Ok(state),
            (None, Some(columns)) => Ok(columns),
            (None, None) => Err(StoreError::Corrupt(format!(
                "row {} of {key} holds no refresh token",
                self.id
            ))),
            (Some(state), Some(mut columns)) => {
                let same_refresh = state.refresh_token.expose() == columns.refresh_token.expose();
                let same_access = state.access_token.as_ref().map(|s| s.expose())
                    == columns.access_token.as_ref().map(|s| s.expose());
                if same_refresh
                    && same_access
                    && (state.access_token.is_none() || state.expires_at == columns.expires_at)
                {
                    return Ok(state);
                }
                if same_refresh {
                    columns.scope = state.scope.clone();
                    columns.mints = state.mints.clone();
                    if same_access {
                        columns.issued_at = state.issued_at;
                    }
                }
                Ok(columns)
            }
        }
    }

    /// The token the SDK columns describe, if they hold a refresh token. An access token without a
    /// readable expiry is dropped (it will be refreshed rather than trusted).
    fn columns_token(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let Some(refresh) = non_empty(&self.refresh_token) else {
            return Ok(None);
        };
        let corrupt = |e| StoreError::Corrupt(format!("row {} of {key}: {e}", self.id));
        let mut token = TokenSet::new(refresh).map_err(corrupt)?;
        let expiry = self
            .expiry_time
            .as_deref()
            .and_then(|t| t.trim().parse::<u64>().ok());
        if let (Some(access), Some(expiry)) = (non_empty(&self.access_token), expiry) {
            token.access_token = Some(Secret::new("access_token", access).map_err(corrupt)?);
            token.expires_at = Instant::from_millis(expiry);
            token.issued_at = token.expires_at.saturating_sub(SDK_TOKEN_LIFETIME);
        }
        if let Some(domain) = self.api_domain.as_deref() {
            // A domain too long for the core is left out rather than failing the whole token.
            let _ = token.api_domain.push_str(domain);
        }
        Ok(Some(token))
    }
}

fn non_empty(value: &Option<Zeroizing<String>>) -> Option<&str> {
    value
        .as_deref()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
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
    let refresh = token.refresh_token.expose();
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
