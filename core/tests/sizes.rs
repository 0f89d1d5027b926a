//! The in-memory sizes of the machine and the token set, for the README table.
//! `cargo test -p zoho-oauth-core sizes -- --nocapture` prints them.

use core::mem::size_of;

use zoho_oauth_core::response::{TokenGrant, Verdict};
use zoho_oauth_core::{cap, Credentials, Machine, TokenSet};

#[test]
fn sizes_of_machine_and_token_set_stay_within_their_budget() {
    let rows = [
        ("Machine", size_of::<Machine>()),
        ("TokenSet", size_of::<TokenSet>()),
        ("Credentials", size_of::<Credentials>()),
        ("TokenGrant", size_of::<TokenGrant>()),
        ("Verdict", size_of::<Verdict>()),
        ("TokenSet::MAX_ENCODED_LEN", TokenSet::MAX_ENCODED_LEN),
    ];
    println!("| type | bytes ({}-bit) |\n|---|---|", usize::BITS);
    for (name, bytes) in rows {
        println!("| `{name}` | {bytes} |");
    }
    // The secrets and strings are inline: the token set is at least their capacities...
    let strings = cap::ACCESS_TOKEN + cap::REFRESH_TOKEN + cap::ORIGIN + cap::SCOPE + cap::SOID;
    assert!(size_of::<TokenSet>() >= strings);
    // ...and not much more (times, lengths, the mint log, the hold): no hidden growth.
    assert!(
        size_of::<TokenSet>() <= strings + 8 * cap::MINT_LOG + 128,
        "{}",
        size_of::<TokenSet>()
    );
    // The machine is a token set, credentials, a grant and bookkeeping: under 4 KiB.
    assert!(size_of::<Machine>() < 4096, "{}", size_of::<Machine>());
}
