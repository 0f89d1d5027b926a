//! The fixture of the scenario tests: one user's credential in a scratch store of some kind, an
//! emulator that issued it, and workers to run against them.

use std::path::Path;
use std::time::Duration;

use zoho_oauth::{CredentialKey, StoreError};
use zoho_oauth_emulator::{
    Config, DataCenter, Emulator, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER_EMAIL,
};

use crate::fleet::{Fleet, Outcome};
use crate::probe::Probe;
use crate::protocol::{Checkpoint, Line, Op, WorkerCommand};
use crate::seed;
use crate::spec::{Kind, Scratch, StoreSpec};

/// How long a scenario's workers may take: generous, for debug-built processes on two shared
/// cores.
pub const LIMIT: Duration = Duration::from_secs(60);

/// [`DEFAULT_USER_EMAIL`]'s credential, exchanged through the library into a scratch store.
pub struct OneCredential {
    scratch: Scratch,
    /// The emulator that issued it (default configuration, US).
    pub emu: Emulator,
    /// The emulator's accounts origin.
    pub accounts: String,
    /// The credential's key.
    pub key: CredentialKey,
    /// The refresh token the exchange stored.
    pub refresh_token: String,
}

impl OneCredential {
    /// A store of `kind` (Redis with a lock lease of `lease`) holding a fresh credential.
    ///
    /// `None` (after saying why) when the kind's server is away and `CI` is not `true`.
    ///
    /// # Panics
    ///
    /// When the emulator, the store or the exchange fails.
    pub fn new(kind: Kind, lease: Option<Duration>) -> Option<Self> {
        let scratch = Scratch::new(kind, lease)?;
        let emu = Emulator::start(Config::default()).expect("start the emulator");
        let accounts = emu.base_url(DataCenter::Us).to_owned();
        let store = scratch.spec().open().expect("open the store");
        let client = seed::client(&accounts, store.into(), Duration::ZERO);
        let key = seed::exchange(&emu, &client, DEFAULT_USER_EMAIL);
        let mut fixture = Self {
            scratch,
            emu,
            accounts,
            key,
            refresh_token: String::new(),
        };
        fixture.refresh_token = fixture
            .stored_refresh_token()
            .expect("load")
            .expect("the exchange stored a refresh token");
        Some(fixture)
    }

    /// The store.
    pub fn spec(&self) -> &StoreSpec {
        self.scratch.spec()
    }

    /// The refresh token stored now, read through a new handle.
    ///
    /// # Errors
    ///
    /// The store's, when it does not open or load.
    pub fn stored_refresh_token(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .spec()
            .open()?
            .load(&self.key)?
            .and_then(|t| t.refresh_token)
            .map(|r| r.expose().to_owned()))
    }

    /// A worker running `op` for the user with its clock `clock_offset` ahead, pausing at
    /// `pause_at`.
    pub fn command(
        &self,
        op: Op,
        clock_offset: Duration,
        pause_at: Option<Checkpoint>,
    ) -> WorkerCommand {
        WorkerCommand {
            store: self.spec().clone(),
            accounts: self.accounts.clone(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            op,
            code: None,
            clock_offset,
            pause_at,
        }
    }

    /// Runs one worker to its end; one that pauses is SIGKILLed there.
    pub fn run_one(&self, exe: &Path, command: WorkerCommand) -> Outcome {
        let mut fleet = Fleet::spawn(exe, &[command], LIMIT);
        fleet.release(0);
        fleet
            .run(|control, i, line| {
                if matches!(line, Line::Paused(_)) {
                    control.kill(i);
                }
            })
            .remove(0)
    }

    /// A probe of the emulator as the default client.
    pub fn probe(&self) -> Probe {
        Probe::new(&self.accounts, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    }
}
