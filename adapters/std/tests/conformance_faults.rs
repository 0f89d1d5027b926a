//! The conformance checks of locks, deletes, bounds, names and damaged entries fail for a store
//! that breaks their rule: each check is run against a store with one fault and must panic
//! saying so (a check that cannot fail would prove nothing).

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zoho_oauth::core::TokenSet;
use zoho_oauth::store::conformance::{self, LockEvidence, DEFAULT_PATIENCE};
use zoho_oauth::store::{decode_token, encode_token, KeyGuard, KeyLocks};
use zoho_oauth::{CredentialKey, LockBusy, LockWait, LockedCredential, StoreError, TokenStore};

/// One way to break the rules.
#[derive(Clone, Copy, Default)]
struct Faults {
    /// The lock of a key with nothing stored is no lock (a row lock on a missing row).
    lock_needs_a_stored_key: bool,
    /// `delete_all` clears without waiting for held locks.
    delete_all_ignores_locks: bool,
    /// A bounded wait gives up at once, whatever the bound.
    busy_at_once: bool,
    /// `list` decodes every entry, so one damaged entry fails it.
    list_decodes: bool,
    /// What `describe` says.
    describe: &'static str,
}

/// A store of encoded bytes with a per-key lock, and the given faults.
#[derive(Default)]
struct Faulty {
    entries: Mutex<BTreeMap<CredentialKey, Vec<u8>>>,
    locks: KeyLocks,
    faults: Faults,
}

impl Faulty {
    fn new(faults: Faults) -> Arc<Self> {
        Arc::new(Self {
            faults,
            ..Self::default()
        })
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<CredentialKey, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Overwrite the entry of `key` with bytes that do not decode.
    fn damage(&self, key: &CredentialKey) {
        self.entries()
            .insert(key.clone(), b"not a token set".to_vec());
    }
}

impl TokenStore for Faulty {
    fn load(&self, key: &CredentialKey) -> Result<Option<TokenSet>, StoreError> {
        let entries = self.entries();
        entries.get(key).map(|b| decode_token(key, b)).transpose()
    }

    fn list(&self) -> Result<Vec<CredentialKey>, StoreError> {
        let entries = self.entries();
        if self.faults.list_decodes {
            for (key, bytes) in entries.iter() {
                decode_token(key, bytes)?;
            }
        }
        Ok(entries.keys().cloned().collect())
    }

    fn delete_all(&self) -> Result<(), StoreError> {
        if self.faults.delete_all_ignores_locks {
            self.entries().clear();
            return Ok(());
        }
        self.locks
            .with_none_held_within(LockWait::AtMost(DEFAULT_PATIENCE * 100), || {
                self.entries().clear()
            })
            .ok_or_else(|| LockBusy::every_key(self.describe(), DEFAULT_PATIENCE * 100).into())
    }

    fn lock<'s>(
        &'s self,
        key: &CredentialKey,
        wait: LockWait,
    ) -> Result<Box<dyn LockedCredential + 's>, StoreError> {
        let stored = self.entries().contains_key(key);
        let guard = if self.faults.lock_needs_a_stored_key && !stored {
            None
        } else {
            let wait = if self.faults.busy_at_once {
                LockWait::NoWait
            } else {
                wait
            };
            let guard = self.locks.lock_within(key, wait).ok_or_else(|| {
                StoreError::from(LockBusy::new(self.describe(), key, wait.limit()))
            })?;
            Some(guard)
        };
        Ok(Box::new(FaultyLock {
            store: self,
            key: key.clone(),
            _guard: guard,
        }))
    }

    fn describe(&self) -> String {
        self.faults.describe.to_owned()
    }
}

struct FaultyLock<'s> {
    store: &'s Faulty,
    key: CredentialKey,
    _guard: Option<KeyGuard<'s>>,
}

impl LockedCredential for FaultyLock<'_> {
    fn load(&mut self) -> Result<Option<TokenSet>, StoreError> {
        self.store.load(&self.key)
    }

    fn save(&mut self, token: &TokenSet) -> Result<(), StoreError> {
        let bytes = encode_token(&self.key, token)?;
        self.store
            .entries()
            .insert(self.key.clone(), bytes.to_vec());
        Ok(())
    }

    fn delete(&mut self) -> Result<bool, StoreError> {
        Ok(self.store.entries().remove(&self.key).is_some())
    }

    fn release(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Run `check` and return its panic message; fail if it passed.
fn failure_of(check: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(check))
        .expect_err("the check passed a store that breaks its rule");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn memory_like() -> Faults {
    Faults {
        describe: "faulty",
        ..Faults::default()
    }
}

#[test]
fn the_stores_without_the_faults_pass_the_same_checks() {
    let store = Faulty::new(memory_like());
    conformance::lock_waits_are_bounded(&*store, store.clone());
    conformance::a_locked_delete_excludes_a_concurrent_locked_save(
        &*store,
        store.clone(),
        LockEvidence::Patience(DEFAULT_PATIENCE),
    );
    conformance::a_cycle_that_loaded_before_a_delete_cannot_resurrect_the_key(
        &*store,
        store.clone(),
        LockEvidence::Patience(DEFAULT_PATIENCE),
    );
    conformance::delete_all_waits_for_a_held_lock(&*store, store.clone(), DEFAULT_PATIENCE);
    conformance::damaged_entries_do_not_block_the_others(&*store, &*store, &mut |k| {
        store.damage(k)
    });
    conformance::describe_names_the_store_without_a_secret(&*store, &["hunter2"]);
}

#[test]
fn a_lock_that_does_not_hold_a_deleted_key_fails_the_delete_check() {
    let store = Faulty::new(Faults {
        lock_needs_a_stored_key: true,
        ..memory_like()
    });
    let why = failure_of(|| {
        conformance::a_locked_delete_excludes_a_concurrent_locked_save(
            &*store,
            store.clone(),
            LockEvidence::Patience(DEFAULT_PATIENCE),
        )
    });
    assert!(
        why.contains("the cycle got the lock before the delete released it"),
        "{why}"
    );
}

#[test]
fn a_delete_all_that_ignores_held_locks_fails_its_check() {
    let store = Faulty::new(Faults {
        delete_all_ignores_locks: true,
        ..memory_like()
    });
    let why = failure_of(|| {
        conformance::delete_all_waits_for_a_held_lock(&*store, store.clone(), DEFAULT_PATIENCE)
    });
    assert!(
        why.contains("delete_all returned while a lock was held"),
        "{why}"
    );
}

#[test]
fn a_wait_that_gives_up_before_its_bound_fails_the_bound_check() {
    let store = Faulty::new(Faults {
        busy_at_once: true,
        ..memory_like()
    });
    let why = failure_of(|| conformance::lock_waits_are_bounded(&*store, store.clone()));
    assert!(why.contains("before the bound"), "{why}");
}

#[test]
fn a_store_whose_list_fails_on_one_damaged_entry_fails_the_damage_check() {
    let store = Faulty::new(Faults {
        list_decodes: true,
        ..memory_like()
    });
    let why = failure_of(|| {
        conformance::damaged_entries_do_not_block_the_others(&*store, &*store, &mut |k| {
            store.damage(k)
        })
    });
    assert!(why.contains("list beside a damaged entry failed"), "{why}");
}

#[test]
fn a_name_showing_a_password_or_nothing_fails_the_describe_check() {
    for (describe, secrets, why_part) in [
        (
            "sqlite:/srv/hunter2.db",
            &["hunter2"][..],
            "a secret the store was opened with",
        ),
        // Caught by their shape, without being told the password.
        (
            "postgres://app:s3cr3t@db.internal/tokens",
            &[][..],
            "the password of its URL",
        ),
        (
            "mysql://db.internal/tokens?password=x",
            &[][..],
            "password=",
        ),
        ("", &[][..], "must name the store"),
    ] {
        let store = Faulty::new(Faults {
            describe,
            ..memory_like()
        });
        let why =
            failure_of(|| conformance::describe_names_the_store_without_a_secret(&*store, secrets));
        assert!(why.contains(why_part), "{describe}: {why}");
    }
}
