//! The `web_login` example: "Login with Zoho" for several users of one application, each stored
//! side by side under the e-mail Zoho reports for them.

use zoho_oauth::FileStore;
use zoho_oauth::Method;
use zoho_oauth_emulator::{Consent, UserSpec};
use zoho_oauth_ureq::UreqTransport;

use crate::{Backend, Outcome};

/// What the application asks for; `aaaserver.profile.READ` lets it learn who logged in.
pub const SCOPES: &[&str] = &["ZohoCRM.users.READ", "aaaserver.profile.READ"];

/// Who logs in to the emulator (with real Zoho, whoever uses the browser).
const PEOPLE: [&str; 2] = ["ana@example.com", "bo@example.com"];

/// Runs the example against [`Backend::from_env`].
pub fn run() -> Outcome {
    run_on(&Backend::from_env()?)
}

/// Runs the example against `backend`.
pub fn run_on(backend: &Backend) -> Outcome {
    let dir = tempfile::tempdir()?;
    let store = FileStore::open(dir.path().join("zoho-tokens"))?;
    let client = backend.builder(UreqTransport::new()).store(store).build()?;
    let redirect_uri = backend.redirect_uri()?;

    for (zuid, person) in (20_000_000_001..).zip(PEOPLE) {
        if let Some(emu) = backend.emulator() {
            // The emulator consents at once as one registered user; in a browser, a person does.
            emu.register_user(UserSpec {
                email: person.to_owned(),
                zuid,
                ..UserSpec::default()
            })?;
            emu.set_consent(Consent {
                user: person.to_owned(),
                ..Consent::default()
            })?;
        }
        // 1. Send the user's browser to `login.url`; keep `login` (its `state`) for the callback.
        let login = client.begin_login(SCOPES, &redirect_uri);
        // 2. Zoho redirects the browser to `redirect_uri?code=…&state=…&accounts-server=…`.
        let callback = backend.browse(&login.url)?;
        // 3. Check the state, exchange the code, ask Zoho who this is, store the tokens.
        let zoho_oauth::Exchanged { key, token, .. } =
            client.complete_login(&login, &callback, None)?;
        println!("logged in {}: {token}", key.user);
    }

    // Every call names its user; each one's token goes to their own CRM account.
    let users = client.users()?;
    for user in &users {
        let response = client.request(user, Method::Get, "/crm/v8/users?type=CurrentUser", None)?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)?;
        println!("{user} → CRM user {}", body["users"][0]["email"]);
    }

    // Logging out revokes the refresh token at Zoho and deletes it here; the others stay.
    let first = users.first().ok_or("nobody logged in")?;
    client.revoke(first)?;
    Ok(format!(
        "logged in {users:?} side by side; after {first} logged out: {:?}",
        client.users()?
    ))
}
