//! Who a new credential is stored under: named by the caller, or learnt from user info with
//! the new access token, before anything is stored.

use crate::error::Error;

/// How a credential's user was chosen when the caller let the library learn it.
#[derive(Debug)]
#[non_exhaustive]
pub enum UserSource {
    /// The e-mail `/oauth/user/info` reported for the new access token.
    Learned,
    /// The fallback user, because user info could not say who the owner is. The error says why:
    /// [`Error::Zoho`]`(`[`Verdict::MissingScope`](zoho_oauth_core::response::Verdict::MissingScope)`)`
    /// when the grant's scope lacks `aaaserver.profile.READ` (the usual case), else the failure of
    /// the user-info call. The credential is stored anyway: the grant is spent, and its tokens are
    /// not thrown away.
    Fallback(Error),
}

/// Who the caller wants a new credential stored under.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner<'a> {
    /// This user.
    Named(&'a str),
    /// The e-mail user info reports; failing to learn it fails the call.
    Learn,
    /// The e-mail user info reports, or this user when it cannot be learnt.
    LearnOr(&'a str),
}
