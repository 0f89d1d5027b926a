//! `grant_type=client_credentials`: an access token for one organisation of a client, no refresh
//! token, under the same minting limits as a refresh token, counted per (client, soid).

use super::{errors, non_empty, parse_scopes, Grant, MintSource, Model, TokenOutcome};
use crate::region::{DataCenter, Environment};

/// The org id of a `soid` (`<service>.<org id>`), or `None` when it is not of that shape.
pub(crate) fn org_id(soid: &str) -> Option<&str> {
    let (service, org) = soid.rsplit_once('.')?;
    (!service.is_empty() && !org.is_empty()).then_some(org)
}

impl Model {
    /// `grant_type=client_credentials` with `scope` and, when the client reaches several orgs, `soid`.
    pub(crate) fn client_credentials(
        &mut self,
        data_center: DataCenter,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        scope: Option<&str>,
        soid: Option<&str>,
    ) -> TokenOutcome {
        let client_id = match self.check_client(data_center, client_id, client_secret) {
            Ok(id) => id,
            Err(error) => return TokenOutcome::Refused(error),
        };
        let orgs = self
            .client(data_center, &client_id)
            .map(|c| c.orgs.clone())
            .unwrap_or_default();
        let soid = match (non_empty(soid), orgs.as_slice()) {
            (_, []) => return TokenOutcome::Refused(errors::UNAUTHORIZED_CLIENT),
            (None, [only]) => only.clone(),
            (None, _) => return TokenOutcome::Refused(errors::MISSING_ORG_INFO),
            (Some(asked), _) => match orgs.iter().find(|o| o.as_str() == asked) {
                Some(found) => found.clone(),
                None => return TokenOutcome::Refused(errors::INVALID_ORG_INFO),
            },
        };
        let scopes = parse_scopes(scope.unwrap_or_default());
        if scopes.is_empty() {
            return TokenOutcome::Refused(errors::INVALID_SCOPE);
        }
        let key = (data_center, client_id.clone(), soid.clone());
        let now = self.now();
        if !self
            .org_budgets
            .entry(key.clone())
            .or_default()
            .admit(now, &self.limits)
        {
            self.counters.throttled += 1;
            return TokenOutcome::Throttled;
        }
        let grant = Grant {
            client_id,
            data_center,
            environment: Environment::Production,
            user: None,
            org: org_id(&soid).map(str::to_owned),
            scopes,
        };
        let access_token = self.mint_access(grant.clone(), MintSource::Org(key));
        let mut minted = self.minted(access_token, None, &grant);
        // Zoho's answer to this grant lists no scope.
        minted.scope = None;
        TokenOutcome::Minted(minted)
    }
}

#[cfg(test)]
mod tests {
    use super::org_id;

    #[test]
    fn a_soid_is_a_service_and_an_org_id() {
        assert_eq!(org_id("ZohoCRM.600001234"), Some("600001234"));
        assert_eq!(org_id("ZohoCRM."), None);
        assert_eq!(org_id("600001234"), None);
    }
}
