//! MemoryStore: the conformance checks, with the same store as its own "other instance" (it lives
//! in one process) and a per-key lock.

use std::sync::Arc;

use zoho_oauth::store::conformance::{self, LockScope, Profile, UnreleasedSaves};
use zoho_oauth::MemoryStore;

#[test]
fn the_memory_store_passes_every_conformance_check_with_a_per_key_lock() {
    let store = Arc::new(MemoryStore::new());
    conformance::run_all(
        &*store,
        store.clone(),
        Profile {
            model_cases: 64,
            ..Profile::new(UnreleasedSaves::Kept, LockScope::Key)
        },
    );
}
