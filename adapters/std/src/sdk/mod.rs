//! The official Zoho SDKs' token stores, to migrate in both directions: what one of their rows
//! means ([`rows`], for their CSV file and their `oauthtoken` table alike) and their CSV token
//! file ([`csv`]).

pub mod csv;
pub mod rows;
