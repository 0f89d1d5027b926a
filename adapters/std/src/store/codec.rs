//! The bytes every store of this project persists: the core's versioned `TokenSet` encoding,
//! in a buffer wiped on drop.

use zoho_oauth_core::TokenSet;

use super::StoreError;
use crate::key::CredentialKey;

/// Encode `token` with the core's versioned encoding, for a store to persist; the buffer is
/// wiped when dropped. Every store in this project writes these bytes.
pub fn encode_token(
    key: &CredentialKey,
    token: &TokenSet,
) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; TokenSet::MAX_ENCODED_LEN]);
    let len = token
        .encode(&mut buf)
        .map_err(|e| StoreError::Other(format!("the token of {key} does not encode: {e}")))?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Decode bytes written by [`encode_token`]: a newer encoding is [`StoreError::FutureVersion`]
/// (upgrade), anything else that does not decode is [`StoreError::Corrupt`].
pub fn decode_token(key: &CredentialKey, bytes: &[u8]) -> Result<TokenSet, StoreError> {
    use zoho_oauth_core::token::DecodeError;
    TokenSet::decode(bytes).map_err(|e| match e {
        DecodeError::FutureVersion { found } => {
            StoreError::FutureVersion(format!("the token of {key} has encoding version {found}"))
        }
        other => StoreError::Corrupt(format!(
            "the token of {key} does not decode ({other:?}); delete it and authorize again"
        )),
    })
}
