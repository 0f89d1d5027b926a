//! Harness of the end-to-end tests: many `e2e-worker` processes sharing one token store (file,
//! SQLite, PostgreSQL, MariaDB/MySQL or Redis), driven against the emulator, some of them
//! SIGKILLed at chosen moments; and the checks that the store, its locks and the emulator's
//! counters are as they must be afterwards.
//!
//! - [`spec`]: a store named on a command line, and a scratch store of each kind per test;
//! - [`protocol`]: the worker's command line and the lines it prints (one per checkpoint of its
//!   store lock and of its requests, so that even a killed worker tells how far it got);
//! - [`instrument`]: the worker's store and transport wrappers that print those lines, and the
//!   clock it runs ahead by the hours the harness lets pass;
//! - [`fleet`]: spawning workers, releasing them together or one by one, killing them on a line
//!   or a timer, collecting how they ended;
//! - [`probe`]: asking the emulator directly whether a token is one it issued and honours;
//! - [`campaign`]: the crash campaign (issue 12), its rounds and invariant checks;
//! - [`seed`]: giving a user a credential as an application does (a code exchanged by the library);
//! - [`scenario`]: the fixture of the scenario tests (one credential, an emulator, workers);
//! - [`rng`]: the seeded generator behind every random choice.
//!
//! The worker (`src/bin/e2e-worker.rs`) is a real user of the library: a [`zoho_oauth::Client`]
//! on the store, with the default transport.

pub mod campaign;
pub mod fleet;
pub mod instrument;
pub mod probe;
pub mod protocol;
pub mod rng;
pub mod scenario;
pub mod seed;
pub mod spec;

pub use fleet::{Fleet, Outcome};
pub use protocol::{Checkpoint, Op, WorkerCommand};
pub use spec::{Kind, Scratch, StoreSpec};
