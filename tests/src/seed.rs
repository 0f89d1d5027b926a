//! Giving a user a credential as an application does: a Self Client code minted at the emulator,
//! exchanged through the library's blocking client, which stores it.

use std::sync::Arc;
use std::time::Duration;

use zoho_oauth::{Client, CredentialKey, MemoryStore, TokenStore};
use zoho_oauth_emulator::{Emulator, SelfClientCode, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use zoho_oauth_ureq::UreqTransport;

use crate::instrument::OffsetClock;

/// A client of the emulator's default registration on `store`, its clock `clock_offset` ahead.
///
/// # Panics
///
/// If the client cannot be built (a bad accounts origin).
pub fn client(accounts: &str, store: Arc<dyn TokenStore>, clock_offset: Duration) -> Client {
    Client::builder(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
        .accounts_origin(accounts)
        .store_arc(store)
        .transport(UreqTransport::new())
        .clock(OffsetClock(clock_offset))
        .build()
        .expect("build a client of the emulator")
}

/// A Self Client code for `user` (a registered user of `emu`), as the API console gives one.
///
/// # Panics
///
/// If the emulator refuses to mint it.
pub fn code(emu: &Emulator, user: &str) -> String {
    emu.mint_self_client_code(&SelfClientCode {
        user: user.to_owned(),
        ..SelfClientCode::default()
    })
    .expect("mint a Self Client code")
}

/// Exchanges a new code for `user` through `client` (which stores the credential); its key.
///
/// # Panics
///
/// If the exchange fails.
pub fn exchange(emu: &Emulator, client: &Client, user: &str) -> CredentialKey {
    client
        .exchange_grant(user, &code(emu, user))
        .unwrap_or_else(|e| panic!("exchanging a code for {user}: {e}"));
    client.key(user)
}

/// The key `user`'s credential has with the emulator's default client at `accounts`.
pub fn key(accounts: &str, user: &str) -> CredentialKey {
    client(accounts, Arc::new(MemoryStore::new()), Duration::ZERO).key(user)
}
